"""The gain report as a library: which runs a comparison needs, training and reusing them, the
statistics over seeds, the tables, the charts and the machine-readable results.

- ``presets``: the built-in methods (the metafiles' mini entries) and a user's pair configs;
- ``runs``: where each run goes, training and evaluating (resumable, several at a time);
- ``stats``: gains over seeds, the balance read from the logs, the teacher's margin;
- ``tables``: the Markdown tables (gain, balance, to choose by) and their caption;
- ``charts``: the gain chart, the loss curves, the detection grids;
- ``results``: the report's results as JSON (per method, run and seed), which
  ``tools/docs/tables.py`` turns into the metafiles' ``Results`` and the documents' tables.

``tools/analysis/distill_report.py`` and ``tools/demo.py`` are thin commands over it. Nothing
here changes global state: the methods of a report are a ``Report``'s own.
"""
from .presets import config_name, load_presets, preset_from_pair
from .report import Report, parse_args
from .runs import Runs, last_checkpoint, max_epochs
from .stats import gain_over_se, mean_std, teacher_margin

__all__ = [
    'Report', 'Runs', 'config_name', 'gain_over_se', 'last_checkpoint', 'load_presets',
    'max_epochs', 'mean_std', 'parse_args', 'preset_from_pair', 'teacher_margin'
]
