"""The methods a report compares: the built-in mini pairs and a user's pair configs.

A *method* is a teacher, a student and one or more distillation configs of that pair. The
built-in ones are the metafiles' mini entries (``configs/<method>/metafile.yml``), grouped by
``Metadata.Report``, in the order of ``model-index.yml``. A pair config given on the command
line is a method of its own: its student alone is the same config with ``model`` set to
``model.architecture``; pairs whose resolved students (model, data, schedule, runtime) are the
same share that student's file and runs, whatever their file names.
"""
import hashlib
import json
import os
import os.path as osp
import threading
from typing import Dict

from ..utils.config import config_path, package_configs

# the tools' root: the repository, or an installed package's .mim (configs/, tools/ and
# model-index.yml side by side in both)
ROOT = osp.dirname(package_configs('detkd'))
# mmengine's package lookup (pkg_resources) is not thread-safe while it initialises
CONFIG_LOCK = threading.Lock()
# what a distillation config has that its student's own config has not
DISTILL_ONLY_KEYS = ('distill_balance_hook', 'find_unused_parameters')


def config_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def repo_file(path: str, root: str = ROOT) -> str:
    """A file the built-in methods name (``configs/...``, relative to ``root``) or a config
    reference (``detkd::``/``mmdet::``; absolute), as a path that works from any directory."""
    path = config_path(path)
    return path if osp.isabs(path) else osp.join(root, path)


def user_file(path: str) -> str:
    """A config given on the command line: a path from the working directory or a package
    reference (``detkd::``, ``mmdet::``), as an absolute path."""
    return osp.abspath(config_path(path))


def load_presets(root: str = ROOT) -> Dict[str, dict]:
    """The built-in mini methods: every metafile entry with ``Metadata.Report`` (the method's
    name) is one of its distillation configs; the method's teacher and student are the
    entries' ``Metadata.Teacher.Config`` / ``Student.Config``, the same for all of them."""
    import yaml
    with open(osp.join(root, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    presets = {}
    for metafile in metafiles:
        with open(osp.join(root, metafile)) as f:
            models = yaml.safe_load(f).get('Models') or []
        for model in models:
            meta = model.get('Metadata') or {}
            if not meta.get('Report'):
                continue
            pair = dict(teacher=meta['Teacher']['Config'], student=meta['Student']['Config'])
            preset = presets.setdefault(meta['Report'], dict(pair, distill=[], builtin=True))
            if {k: preset[k] for k in pair} != pair:
                raise ValueError(f"{metafile}: {model['Name']} is in method {meta['Report']} "
                                 f'but names another teacher or student ({pair}) than its '
                                 f'first entry ({preset["teacher"]}, {preset["student"]})')
            preset['distill'].append(model['Config'])
    return presets


def student_key(student_cfg: dict) -> str:
    """A short key of a resolved student config: equal configs, equal keys."""
    text = json.dumps(student_cfg, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def preset_from_pair(pair: str, work_root: str) -> dict:
    """A method from a distillation config: its teacher, its student alone (the config with
    ``model`` set to ``model.architecture``, written under ``<work_root>/students``, named by
    the student's detector and a key of its resolved config, so that pairs with the same
    student share it) and itself. Exits with a message when the config is not one the report
    can read."""
    from mmengine.config import Config
    pair = user_file(pair)
    if not osp.isfile(pair):
        raise SystemExit(f'distill_report: no config file {pair}')
    with CONFIG_LOCK:
        cfg = Config.fromfile(pair)
    model = cfg.get('model') or {}
    arch, teacher = model.get('architecture'), model.get('teacher')
    if not isinstance(arch, dict) or not isinstance(teacher, str):
        raise SystemExit(
            f'distill_report: {pair} is not a distillation config the report can read: it '
            'needs model.architecture (the student, a model dict, as '
            "`model.update(architecture=_base_.model, ...)` in configs/fgd/*_mini.py) and "
            "model.teacher (the teacher's config file)")
    teacher_file = osp.abspath(config_path(teacher, osp.dirname(pair)))
    if not osp.isfile(teacher_file):
        raise SystemExit(f"distill_report: {pair}: model.teacher = '{teacher}' is not a "
                         f'config file (give a path from the directory you run from, '
                         f'{os.getcwd()}, one relative to the pair config starting with '
                         "'.', an absolute one, or a package's `detkd::<dir>/<config>.py`, "
                         '`mmdet::<dir>/<config>.py`)')
    student = Config(dict(cfg.to_dict(), model=arch))
    for key in DISTILL_ONLY_KEYS:
        student.pop(key, None)
    # the balance hook is the distillation's (tools/train.py adds it to distillation configs)
    hooks = [
        h for h in student.get('custom_hooks') or []
        if h.get('type') not in ('DistillBalanceHook', 'mmrazor.StopDistillHook',
                                 'StopDistillHook')
    ]
    if 'custom_hooks' in student:
        student.custom_hooks = hooks
    key = student_key(student.to_dict())
    path = osp.abspath(osp.join(work_root, 'students', f'{arch.get("type", "student")}-{key}.py'))
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not osp.isfile(path):
        student.dump(path)
    ckpt = model.get('teacher_ckpt')
    url = ckpt and ckpt.startswith(('http://', 'https://'))
    if ckpt and not (url or osp.isfile(ckpt)):
        ckpt = None  # not there yet: the report trains the teacher config
    return dict(
        teacher=teacher_file, student=path, distill=[pair], teacher_ckpt=ckpt, builtin=False)
