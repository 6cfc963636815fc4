"""The gain of distillation methods over seeds, in one command (a thin command over
``detkd.report``).

For each method (the built-in mini pairs: the metafiles' entries with ``Metadata.Report``; or
your own pair configs, on their own data), trains the teacher once (or evaluates the given
checkpoint once), then for each seed the student alone and each distillation with the same
schedule and seed, evaluates all, and writes, in ``--out-dir``: ``report.md`` (the teachers'
margins over the student alone, the gain table, the balance table and, with ``--cost``, the
table to choose by), ``results.json`` (every figure, machine-readable, with the date, the
machine and the command: ``tools/docs/tables.py --import`` files it into the metafiles, from
which the documents' tables are generated) and charts.

    python tools/analysis/distill_report.py --methods fgd ld --seeds 0 1 2
    python tools/analysis/distill_report.py --no-train --methods fgd --seeds 0 1 2  # report only
    python tools/analysis/distill_report.py --no-train --methods fgd pkd --seeds 0 1 2 \\
        --cost bench.json --compute-matched     # + the table to choose by, with the student
                                                # alone trained as long as the compute buys
    python tools/analysis/distill_report.py my_pair_a.py my_pair_b.py --seeds 0 1 2
    python .../detkd/.mim/tools/analysis/distill_report.py detkd::fgd/fgd_retina_r34_r18_mini.py

Runs and the report go under the directory the command runs from (``work_dirs/``, as mmdet's
tools); interrupted runs resume; finished runs are reused. Where each run goes:
``detkd/report/runs.py``.
"""
from detkd.report.report import main

if __name__ == '__main__':
    main()
