"""Make MMRazor 1.0.0 importable on PyTorch 2.x, without editing site-packages.

``import mmrazor.models`` (and ``mmrazor.engine``) imports
``mmrazor.structures.quantization.backend_config``, whose module body builds quantization
backend tables from ``torch.ao`` / ``torch.nn.quantized._reference`` APIs that newer PyTorch
releases moved or removed. Its own fallback replaces them with placeholders, but then indexes
those placeholders at import time (``nnqr.Conv1d``), which raises ``ImportError: torch>=1.13 is
not installed properly`` and takes every MMRazor model (distillers included) down with it.

Distillation never touches quantization, so when that module cannot be imported we register,
in its place, a stand-in exposing the same public names; using any of them raises an error that
says quantization is unavailable. Nothing else in MMRazor is changed, and on a PyTorch where the
real module imports, the real module is used.

It also keeps MMEngine 0.10's checkpoints loadable on torch >= 2.6, whose ``torch.load``
defaults to ``weights_only=True``: MMEngine calls ``torch.load`` without that argument, and its
checkpoints hold more than tensors (the message hub's ``HistoryBuffer``, numpy arrays), so
loading a checkpoint, resuming and ``tools/test.py`` would all fail. We set
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``, torch's own switch back to the behaviour MMEngine was
written for, unless the user has set that variable already (set it to 0 to keep torch's
default: then MMEngine checkpoints do not load). Load only checkpoints you trust, as always
with pickled checkpoints.

And it lets a config inherit this project's configs and fragments the way mmdet's are
inherited: ``_base_ = 'detkd::retinanet/retinanet_r18_mini.py'``. MMEngine resolves
``package::`` bases only for the OpenMMLab packages it lists (``MODULE2PACKAGE``) and finds an
editable install's folder in site-packages, where it is not: :func:`apply` adds ``detkd`` to the
list and makes the lookup of ``detkd`` return the imported package's own folder (whose ``.mim``
holds the configs in a wheel and in the source tree alike), and what such a base holds is built
in mmdet's scope (detkd registers into mmdet's and MMRazor's registries), as an ``mmdet::``
base's is.

This module must be imported before anything imports ``mmrazor.structures`` (``import detkd``
does it first); :func:`apply` is idempotent.
"""
import importlib
import os
import sys
import types

_TARGET = 'mmrazor.structures.quantization.backend_config'
_PUBLIC_NAMES = (
    'get_academic_backend_config',
    'get_academic_backend_config_dict',
    'get_native_backend_config',
    'get_native_backend_config_dict',
    'get_openvino_backend_config',
    'get_openvino_backend_config_dict',
    'get_tensorrt_backend_config',
    'get_tensorrt_backend_config_dict',
)

#: Why the real module could not be imported (None when it imported, or before apply()).
import_error = None


def _unavailable(name):

    def fail(*args, **kwargs):
        raise RuntimeError(
            f'mmrazor quantization ({name}) is unavailable with this PyTorch: '
            f'{_TARGET} failed to import ({import_error}); detkd only supports distillation.')

    fail.__name__ = name
    return fail


class _UnavailableBackendConfigs(dict):
    """Stands for ``BackendConfigs`` (a dict of backend name -> config) and fails on use."""

    def __getitem__(self, key):
        _unavailable(f'BackendConfigs[{key!r}]')()


def _stand_in():
    module = types.ModuleType(
        _TARGET, 'detkd.compat stand-in: MMRazor quantization is '
        'unavailable with this PyTorch.')
    for name in _PUBLIC_NAMES:
        setattr(module, name, _unavailable(name))
    module.BackendConfigs = _UnavailableBackendConfigs()
    module.__all__ = ['BackendConfigs', *_PUBLIC_NAMES]
    module.__detkd_stand_in__ = True
    return module


def _config_bases():
    """``detkd::`` in a config's ``_base_`` (see the module docstring)."""
    import mmengine.config.config as config
    import mmengine.config.utils as utils
    utils.MODULE2PACKAGE.setdefault('detkd', 'detkd')
    lookup = config.get_installed_path
    if getattr(lookup, '__detkd__', False):
        return

    def get_installed_path(package: str) -> str:
        if package == 'detkd':
            return os.path.dirname(os.path.abspath(__file__))
        return lookup(package)

    get_installed_path.__detkd__ = True
    config.get_installed_path = get_installed_path
    # detkd's configs are mmdet configs (detkd registers into mmdet's and MMRazor's
    # registries): what they hold is built in mmdet's scope, as from an mmdet:: base
    resolve = config.Config._get_cfg_path

    def _get_cfg_path(cfg_path, filename):
        path, scope = resolve(cfg_path, filename)
        return path, ('mmdet' if scope == 'detkd' else scope)

    config.Config._get_cfg_path = staticmethod(_get_cfg_path)


def apply():
    """Import the real backend-config module, or register the stand-in if it fails; let
    MMEngine's ``torch.load`` calls read its checkpoints; resolve ``detkd::`` bases."""
    global import_error
    os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    _config_bases()
    if _TARGET in sys.modules:
        return
    # Importing the parent package runs `from .backend_config import *` first: import the
    # target directly inside a guard, so a failure leaves nothing half-initialised behind.
    try:
        importlib.import_module(_TARGET)
    except ImportError as e:  # the failure we fix: only quantization is lost
        import_error = e
        for name in [
                m for m in sys.modules if m.startswith(_TARGET)
                or m == 'mmrazor.structures.quantization' or m == 'mmrazor.structures'
        ]:
            del sys.modules[name]
        sys.modules[_TARGET] = _stand_in()


apply()
