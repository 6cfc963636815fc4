"""Config helpers: student and teacher given as config files, expanded into the run's config.

A distillation config names its student and teacher as config files (``model.architecture``,
``model.teacher``). ``load_config`` (what ``tools/train.py`` and ``tools/test.py`` use) puts
their ``model`` dicts in place before the ``--cfg-options`` apply, so that the config saved in
the work dir holds everything needed to rerun the job, teacher included, and options such as
``model.teacher.backbone.depth=50`` reach the teacher. ``DetDistill`` accepts the files too
(for other tools), via ``model_cfg``.
"""
import importlib.util
import os.path as osp
import warnings
from typing import Optional, Sequence, Union

from mmengine.config import Config
from mmengine.utils import get_installed_path

MODEL_REFS = (('architecture', 'student'), ('teacher', 'teacher'))


def package_configs(package: str) -> str:
    """The configs folder a package installs (``<package>/.mim/configs``, OpenMMLab's layout).

    Found from the imported package itself, so that it works for an editable install too
    (where MMEngine's ``get_installed_path`` looks in site-packages): detkd's source tree has
    ``projects/detkd/.mim/configs`` as a link to the repository's ``configs/``, and a built
    wheel a copy (``setup.py``)."""
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.origin is not None:
        root = osp.dirname(spec.origin)
    else:
        root = get_installed_path(package)
    return osp.join(root, '.mim', 'configs')


def config_path(path: str, base_dir: Optional[str] = None) -> str:
    """The file a config reference names: ``package::rel/path.py`` for a config installed
    with a package (``mmdet::retinanet/...``; this project's own as
    ``detkd::retinanet/...``, which resolves wherever the command runs), a path starting
    with ``.`` relative to ``base_dir`` (the referring config's directory, as ``_base_``),
    else a path relative to the working directory."""
    if '::' in path:
        package, rel_path = path.split('::', 1)
        return osp.join(package_configs(package), rel_path)
    if base_dir is not None and path.startswith('.'):
        return osp.normpath(osp.join(base_dir, path))
    return path


def model_cfg(model: Union[str, dict], role: str, base_dir: Optional[str] = None) -> dict:
    """A detector's model dict, given as a dict or as a config file (see ``config_path``),
    with ``_scope_='mmdet'`` (student and teacher are mmdet detectors)."""
    if isinstance(model, str):
        path = config_path(model, base_dir)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'the {role} config {model!r} does not exist (paths are relative to the '
                'directory you run the tools from, usually the repository root, or to the '
                "referring config's directory when they start with '.')")
        model = Config.fromfile(path).model
    model = dict(model)
    model.setdefault('_scope_', 'mmdet')
    return model


def dataset_classes(cfg: Config) -> Optional[tuple]:
    """The classes of a config's training dataset: its ``metainfo.classes``, else its dataset
    type's ``METAINFO`` (through dataset wrappers with one ``dataset``); None if unknown."""
    ds = (cfg.get('train_dataloader') or {}).get('dataset')
    while isinstance(ds, dict) and isinstance(ds.get('dataset'), dict):
        ds = ds['dataset']
    if not isinstance(ds, dict):
        return None
    classes = (ds.get('metainfo') or {}).get('classes')
    if classes is None and isinstance(ds.get('type'), str):
        from mmdet.registry import DATASETS
        dataset = DATASETS.get(ds['type'])
        classes = getattr(dataset, 'METAINFO', {}).get('classes')
    return tuple(classes) if classes is not None else None


def class_difference(student: Sequence[str], teacher: Sequence[str]) -> Optional[str]:
    """How two class lists differ, in words; None if they are the same."""
    student, teacher = tuple(student), tuple(teacher)
    if student == teacher:
        return None
    if sorted(student) == sorted(teacher):
        moved = [
            f'#{i} is {s!r} for the student, {t!r} for the teacher'
            for i, (s, t) in enumerate(zip(student, teacher)) if s != t
        ]
        return 'the same classes in another order: ' + '; '.join(
            moved[:4]) + (f' ({len(moved)} places differ)' if len(moved) > 4 else '')
    only_s = [c for c in student if c not in teacher]
    only_t = [c for c in teacher if c not in student]
    return (f'{len(student)} classes for the student, {len(teacher)} for the teacher; only the '
            f'student has {list(only_s[:5])}' + ('...' if len(only_s) > 5 else '') +
            f', only the teacher {list(only_t[:5])}' + ('...' if len(only_t) > 5 else ''))


def expand_model_refs(cfg: Config, base_dir: Optional[str] = None) -> Config:
    """Replace a distillation model's ``architecture`` / ``teacher`` config files by their
    model dicts (in place; a config without them is left as it is), and warn when the
    teacher's config trains on other classes than the run's dataset (names or order)."""
    model = cfg.get('model')
    if isinstance(model, dict) and 'teacher' in model and 'architecture' in model:
        if base_dir is None and cfg.filename:
            base_dir = osp.dirname(osp.abspath(cfg.filename))
        teacher = model['teacher']
        if isinstance(teacher, str) and osp.isfile(config_path(teacher, base_dir)):
            warn_class_difference(cfg, Config.fromfile(config_path(teacher, base_dir)), teacher)
        for key, role in MODEL_REFS:
            if isinstance(model[key], str):
                model[key] = model_cfg(model[key], role, base_dir)
    return cfg


def warn_class_difference(cfg: Config, teacher_cfg: Config, teacher: str) -> Optional[str]:
    """Warn (and return the message) when the teacher's config trains on other classes than
    the run's (the student's) dataset."""
    s, t = dataset_classes(cfg), dataset_classes(teacher_cfg)
    diff = class_difference(s, t) if s is not None and t is not None else None
    if diff is None:
        return None
    message = (f'the teacher ({teacher}) was trained on other classes than the student\'s '
               f'dataset: {diff}. Methods that compare class predictions (CWD on head '
               'logits, LD, YOLOv3 KD, the PP-YOLOE+ logits and its teacher assignment) need '
               'the same classes in the same order; feature-level ones (FGD, CWD on the '
               'neck) do not.')
    warnings.warn(message, UserWarning, stacklevel=2)
    return message


def add_balance_hook(cfg: Config) -> Config:
    """Move a distillation config's ``distill_balance_hook`` (set by
    ``configs/_base_/distill/det_distill.py``) into its ``custom_hooks``, unless it is None or
    a hook of that type is there already (in place).

    The fragment cannot set ``custom_hooks`` itself: a student config with hooks of its own
    (EMA) would then clash with it among the pair config's ``_base_`` files."""
    hook = cfg.pop('distill_balance_hook', None)
    if not hook:
        return cfg
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == hook['type'] for h in hooks):
        cfg.custom_hooks = hooks + [hook]
    return cfg


def enable_amp(cfg: Config, cuda: Optional[bool] = None) -> str:
    """What ``tools/train.py --amp`` does to a config's optimizer wrapper (in place): mmdet's
    float16 ``AmpOptimWrapper`` with dynamic loss scaling on a GPU, and on a CPU, where
    autocast runs in bfloat16 only, ``BFloat16AmpOptimWrapper``. Returns the type set."""
    if cuda is None:
        import torch
        cuda = torch.cuda.is_available()
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper in ('AmpOptimWrapper', 'BFloat16AmpOptimWrapper'):
        return wrapper
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper (it becomes '
                         f'AmpOptimWrapper), got {wrapper}; set the mixed-precision wrapper '
                         'in the config instead')
    if cuda:
        cfg.optim_wrapper.update(type='AmpOptimWrapper', loss_scale='dynamic')
    else:
        cfg.optim_wrapper.update(type='BFloat16AmpOptimWrapper')
    return cfg.optim_wrapper.type


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` with the student and teacher files expanded, then the options, then
    the distillation balance hook added (see ``add_balance_hook``). ``path`` may be a package
    reference (``detkd::fgd/fgd_retina_r34_r18_mini.py``, see ``config_path``)."""
    cfg = expand_model_refs(Config.fromfile(config_path(path)))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return add_balance_hook(cfg)
