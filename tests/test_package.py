"""detkd as users install it: a wheel built from the source tree, installed into a folder of
its own, its tools run from an empty directory outside the repository."""
import glob
import os.path as osp
import shutil

import pytest
from conftest import ROOT, run_tool
from test_tools_integration import short_options

pytestmark = pytest.mark.integration

# what is not part of the source (as a clean clone has it)
NOT_SOURCE = ('.git', '.venv*', 'work_dirs', 'data', 'build', 'dist', '*.egg-info', '__pycache__',
              '.pytest_cache')


@pytest.fixture(scope='module')
def installed(tmp_path_factory, python):
    """The wheel, built from a copy of the source tree and installed (without its
    dependencies, which the venv has) into its own folder: ``(site, wheel)``."""
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    run_tool([
        python, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w',
        str(tmp / 'dist'),
        str(src)
    ])
    wheel = glob.glob(str(tmp / 'dist' / 'detkd-*.whl'))
    assert len(wheel) == 1, wheel
    site = tmp / 'site'
    run_tool([python, '-m', 'pip', 'install', '--no-deps', '-q', '--target', str(site), wheel[0]])
    return str(site), wheel[0]


def test_the_wheel_carries_the_configs_tools_and_model_index(installed):
    site, _ = installed
    mim = osp.join(site, 'detkd', '.mim')
    for path in ('configs/fgd_retina_r101_r50.py', 'configs/fgd/fgd_retina_r34_r18_mini.py',
                 'configs/fgd/metafile.yml', 'configs/_base_/distill/fgd.py', 'tools/train.py',
                 'tools/analysis/distill_report.py', 'model-index.yml'):
        assert osp.isfile(osp.join(mim, path)) and not osp.islink(osp.join(mim, path)), path


def test_installed_package_reports_a_mini_pair_from_an_empty_directory(
        installed, python, tmp_path):
    """From an empty directory, with detkd imported from the wheel (not the source tree):
    the report on a pair named as ``detkd::`` trains its teacher, its student and the pair
    for a few iterations with the wheel's own tools (the mini dataset generated on first
    use into ./data), evaluates them and writes the report there; nothing is written into
    the installed package."""
    site, _ = installed
    run = tmp_path / 'run'
    run.mkdir()
    env = dict(PYTHONPATH=site)
    where = run_tool([python, '-c', 'import detkd; print(detkd.__file__)'], env=env, cwd=run)
    assert where.stdout.strip().startswith(site), where.stdout
    tools = osp.join(site, 'detkd', '.mim', 'tools')
    opts = [o for o in short_options() if not o.startswith('model.')]
    before = sorted(glob.glob(osp.join(site, '**'), recursive=True))
    out = run_tool([
        python,
        osp.join(tools, 'analysis', 'distill_report.py'), 'detkd::cwd/cwd_retina_r34_r18_mini.py',
        '--grid-images', '0', '--cfg-options', *opts, 'model.test_cfg.score_thr=0.0'
    ],
                   env=env,
                   cwd=run,
                   timeout=900).stdout
    assert out.count('[start]') == 3, out
    assert osp.join(tools, 'train.py') in out  # the wheel's tools ran
    report = open(run / 'work_dirs' / 'report' / 'report.md').read()
    assert len([r for r in report.splitlines() if r.startswith('| cwd_retina_r34_r18_mini |')])
    assert osp.isfile(run / 'data' / 'mini_coco' / 'annotations' / 'instances_val.json')
    assert osp.isfile(run / 'work_dirs' / 'retinanet_r34_mini' / 'epoch_1.pth')
    after = sorted(
        p for p in glob.glob(osp.join(site, '**'), recursive=True) if '__pycache__' not in p)
    assert after == [p for p in before if '__pycache__' not in p]
    # a user pair's student alone: in students/, named by its detector and resolved config
    assert len(glob.glob(str(run / 'work_dirs' / 'students' / 'RetinaNet-*.py'))) == 1
