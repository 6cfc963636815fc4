"""The documents: every table of measured figures is what `tools/docs/tables.py` generates from
docs/results/ (and the metafiles' Results blocks too), they describe the software as it is (no
word about how the work went), and the README reads how-to first."""
import glob
import json
import re

import pytest

from detkd.report.docs import (choose_table, latest_costs, load_runs, regenerate, teacher_line,
                               update_metafile)

DOCS = (['README.md'] + sorted(glob.glob('docs/*.md')) + sorted(glob.glob('configs/*/README.md')) +
        sorted(glob.glob('docs/results/**/*.json', recursive=True)))


def test_every_table_is_what_the_results_files_give():
    changed = regenerate('.', write=False, report=lambda line: None)
    assert changed == [], ('differs from docs/results (run python tools/docs/tables.py '
                           f'--write): {changed}')


def test_the_results_files_have_their_provenance():
    for path in glob.glob('docs/results/**/*.json', recursive=True):
        data = json.load(open(path))
        if isinstance(data, list):
            continue
        for key in ('date', 'machine', 'command'):
            assert data.get(key), (path, key)


def test_a_run_is_its_newest_record(tmp_path):
    (tmp_path / 'docs' / 'results').mkdir(parents=True)
    rec = dict(method='m', run='r', gain=1.0, seeds={})
    for date, gain in (('2026-12-01', 1.0), ('2026-12-05', 2.0)):
        (tmp_path / 'docs' / 'results' / f'{date}.json').write_text(
            json.dumps(dict(date=date, machine='x', command='c', results=[dict(rec, gain=gain)])))
    assert load_runs(str(tmp_path))['r']['gain'] == 2.0


def test_a_cost_is_its_configs_newest_benchmark_in_every_table(tmp_path):
    bench = tmp_path / 'docs' / 'results' / 'benchmark'
    bench.mkdir(parents=True)

    def row(ratio, peak):
        return dict(
            student=dict(time=1.0, peak_mb=100.0),
            distill=dict(config='configs/a/a_mini.py', time=ratio, peak_mb=peak),
            summary=dict(ratio=ratio))

    for date, ratio, peak in (('2026-12-01', 1.5, 300.0), ('2026-12-06', 1.2, 200.0)):
        (bench / f'{date}.json').write_text(
            json.dumps(dict(date=date, machine='x', command='c', rows=[row(ratio, peak)])))
    costs = latest_costs(str(tmp_path))
    assert costs['a_mini']['ratio'] == 1.2 and costs['a_mini']['date'] == '2026-12-06'
    # the results file's own (older) cost gives way to the newest benchmark
    rec = dict(
        run='a_mini',
        date='2026-12-01',
        gain=1.0,
        seeds={'0': {}},
        cost=dict(ratio=1.5, distill_peak_mb=300, student_peak_mb=100))
    row_line = choose_table({'a_mini': rec}, ['a_mini'], costs).splitlines()[-1]
    assert '| 1.20 | 200 / 100 |' in row_line and '1.50' not in row_line
    text = '- Name: a_mini\n  Config: c.py\n  Metadata:\n    Report: a\n'
    block = update_metafile(text, {'a_mini': dict(rec, file='f.json')}, costs)
    assert 'step cost ratio: 1.2\n' in block


def test_the_teacher_line_holds_for_every_row_under_it():
    margin = dict(teacher=31.5, student=17.3, student_sd=1.5, seeds=3, margin=14.2)
    runs = {
        'a': dict(teacher_map=31.5, margin=margin),
        'mixed': dict(teacher_map=43.0),
        'c': dict(teacher_map=31.5)
    }
    assert teacher_line(runs, [
        'a', 'c', 'not_measured'
    ]) == ("Teacher 31.5, student alone 17.3 ± 1.5 over 3 seeds: the teacher's margin +14.2.\n\n")
    # a mixed pair's run (same student, another teacher) is named with its teacher
    assert teacher_line(
        runs,
        ['a', 'mixed', 'c']).startswith('Teacher 31.5 (43.0 for `mixed`), student alone 17.3')
    assert teacher_line({'c': runs['c']}, ['c']) == ''  # no margin measured: no line
    # a method folder's table of several pairs (PKD: RetinaNet and RTMDet students) has none
    block = open('configs/pkd/README.md').read().split('<!-- table:mini-pkd -->')[1]
    assert 'Teacher ' not in block.split('<!-- /table -->')[0]
    block = open('configs/rtmdet_kd/README.md').read().split('<!-- table:mini-rtmdet_kd -->')[1]
    assert block.lstrip().startswith('Teacher 53.1, student alone')


def test_metafile_results_blocks_are_replaced_not_repeated():
    text = ('- Name: a_mini\n  Config: c.py\n  Metadata:\n    Report: a\n'
            '- Name: coco\n  Config: d.py\n')
    runs = {
        'a_mini':
        dict(
            date='2026-12-06',
            machine='m',
            command='cmd',
            file='f.json',
            distilled_map=30.0,
            student_map=20.0,
            gain=10.0,
            gain_sd=1.0,
            seeds={
                '0': {},
                '1': {}
            })
    }
    once = update_metafile(text, runs)
    assert once.count('Results:') == 1 and 'gain: 10.0' in once
    assert update_metafile(once, runs) == once
    assert '- Name: coco\n  Config: d.py\n' in once


@pytest.mark.parametrize('path', DOCS)
def test_documents_say_what_holds_now(path):
    text = open(path).read()
    found = re.findall(r'.{0,40}\b(?:session|earlier layout)\b.{0,40}', text, re.I)
    assert not found, found


def test_readme_reads_how_to_first_and_is_short():
    text = open('README.md').read()
    assert len(text.splitlines()) <= 250
    first_table = text.index('<!-- table:')
    for heading in ('## Install', '## Two commands', '## Train a pair on COCO',
                    'docs/your_data.md'):
        assert text.index(heading) < first_table, heading
