"""Config helpers: student and teacher given as config files, expanded into the run's config.

A distillation config names its student and teacher as config files (``model.architecture``,
``model.teacher``). ``load_config`` (what ``tools/train.py`` and ``tools/test.py`` use) puts
their ``model`` dicts in place before the ``--cfg-options`` apply, so that the config saved in
the work dir holds everything needed to rerun the job, teacher included, and options such as
``model.teacher.backbone.depth=50`` reach the teacher. ``DetDistill`` accepts the files too
(for other tools), via ``model_cfg``.
"""
import os.path as osp
from typing import Optional, Union

from mmengine.config import Config
from mmengine.utils import get_installed_path

MODEL_REFS = (('architecture', 'student'), ('teacher', 'teacher'))


def config_path(path: str, base_dir: Optional[str] = None) -> str:
    """The file a config reference names: ``package::rel/path.py`` for a config installed
    with a package (``mmdet::retinanet/...``), a path starting with ``.`` relative to
    ``base_dir`` (the referring config's directory, as ``_base_``), else a path relative to
    the working directory (the repository root, as mmdet's tools expect)."""
    if '::' in path:
        package, rel_path = path.split('::', 1)
        return osp.join(get_installed_path(package), '.mim', 'configs', rel_path)
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


def expand_model_refs(cfg: Config, base_dir: Optional[str] = None) -> Config:
    """Replace a distillation model's ``architecture`` / ``teacher`` config files by their
    model dicts (in place; a config without them is left as it is)."""
    model = cfg.get('model')
    if isinstance(model, dict) and 'teacher' in model and 'architecture' in model:
        if base_dir is None and cfg.filename:
            base_dir = osp.dirname(osp.abspath(cfg.filename))
        for key, role in MODEL_REFS:
            if isinstance(model[key], str):
                model[key] = model_cfg(model[key], role, base_dir)
    return cfg


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


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` with the student and teacher files expanded, then the options, then
    the distillation balance hook added (see ``add_balance_hook``)."""
    cfg = expand_model_refs(Config.fromfile(path))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return add_balance_hook(cfg)
