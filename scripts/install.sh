#!/usr/bin/env bash
# Idempotent install of the whole stack into .venv (called by `make install`).
#
#   torch   TORCH_SPEC (default torch==2.13.0, the CPU build on these machines; any torch>=2.1
#           works elsewhere, CUDA or not)
#   mmcv    2.1.0 built from its sdist with MMCV_WITH_OPS=1 against *this* torch (CUDA ops
#           too when CUDA is present). The built wheel is kept in a cache keyed by the torch
#           version and Python, and is used only if it really contains the compiled ops:
#           pip's own cache is bypassed, because a wheel once built without torch has no ops.
#   rest    requirements.txt, then this project (editable, `import detkd`).
#
# Re-running is fast: a stamp keyed by the requirements and this script skips everything.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
MMCV_VERSION=2.1.0
WHEEL_CACHE=${DETKD_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/detkd/wheels}

log() { printf '\033[1m[install]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[install] FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

stamp_key=$(cat requirements.txt scripts/install.sh pyproject.toml | sha256sum | cut -c1-16)-$(echo "$TORCH_SPEC" | sha256sum | cut -c1-8)
stamp="$VENV/.detkd-installed-$stamp_key"
if [ -f "$stamp" ]; then
    log "up to date ($VENV)"; exit 0
fi
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PY" >/dev/null || die "$PY not found; set PYTHON=/path/to/python3.11"
    log "creating $VENV with $PY"
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
# pip.conf here names local index folders that may not exist; drop those warnings only.
pipi() { "$VPY" -m pip install --disable-pip-version-check -q "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2); }

pipi wheel ninja==1.11.1.1 numpy==1.26.4

if ! "$VPY" -c 'import torch, sys; v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]); sys.exit(v < (2, 1))' 2>/dev/null; then
    log "installing $TORCH_SPEC"
    pipi "$TORCH_SPEC"
fi
torch_ver=$("$VPY" -c 'import torch; print(torch.__version__.replace("+", "_"))')
cuda=$("$VPY" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
# mmcv 2.1.0's setup.py (and mmengine's config loader) import pkg_resources, gone from
# setuptools>=70; torch pulls a newer one. pip then reports a conflict with torch's metadata
# (setuptools>=77.0.3), which torch only needs to build extensions of its own.
log "pinning setuptools<70 for mmcv and mmengine (pip's note about torch wanting >=77 is expected)"
pipi 'setuptools<70'
py_tag=$("$VPY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
log "torch $torch_ver ($cuda), $py_tag"

has_ops() {  # a wheel file that contains mmcv's compiled extension
    "$VPY" - "$1" <<'PYEOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
sys.exit(0 if any(n.startswith('mmcv/_ext') and n.endswith('.so') for n in names) else 1)
PYEOF
}

mmcv_ok() {
    "$VPY" - <<'PYEOF' 2>/dev/null
import torch, mmcv
from mmcv.ops import nms
assert mmcv.__version__ == '2.1.0'
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
dets, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
assert keep.tolist() == [0, 2], keep
PYEOF
}

if ! mmcv_ok; then
    cache_dir="$WHEEL_CACHE/mmcv-$MMCV_VERSION-torch$torch_ver-$cuda-$py_tag"
    mkdir -p "$cache_dir"
    wheel=$(ls "$cache_dir"/mmcv-*.whl 2>/dev/null | head -n1 || true)
    if [ -n "$wheel" ] && ! has_ops "$wheel"; then
        log "discarding cached $wheel: it has no compiled ops"; rm -f "$wheel"; wheel=""
    fi
    if [ -z "$wheel" ]; then
        log "building mmcv $MMCV_VERSION with ops against torch $torch_ver (about 13 min on 2 cores)"
        tmp=$(mktemp -d)
        PATH="$VENV/bin:$PATH" MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            "$VPY" -m pip wheel --disable-pip-version-check -q --no-deps --no-build-isolation \
            --no-cache-dir --no-binary mmcv "mmcv==$MMCV_VERSION" -w "$tmp" 2> >(grep -v "^WARNING: Location 'file:" >&2) \
            || die "mmcv build failed (needs a C++ compiler and the Python headers)"
        wheel=$(ls "$tmp"/mmcv-*.whl)
        has_ops "$wheel" || die "the mmcv wheel was built without ops (was torch importable?)"
        mv "$wheel" "$cache_dir/" && wheel="$cache_dir/$(basename "$wheel")"; rm -rf "$tmp"
    else
        log "using cached $wheel"
    fi
    pipi --no-deps --force-reinstall "$wheel"
    # mmcv's own runtime dependencies (not torch)
    pipi addict packaging pyyaml yapf opencv-python==4.11.0.86 numpy==1.26.4
fi

log "installing requirements.txt"
pipi -r requirements.txt
pipi --no-deps -e .

log "checking the stack"
mmcv_ok || die "mmcv.ops.nms does not run: the installed mmcv has no working ops"
"$VPY" - <<'PYEOF' || die "the stack does not import (see the error above)"
import mmengine, mmdet, mmcv, torch
import detkd  # applies detkd.compat, then registers our modules
import mmrazor.models, mmrazor.engine  # noqa: F401
print(f'[install] ok: torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmcv {mmcv.__version__} (ops), mmdet {mmdet.__version__}, detkd {detkd.__version__}')
PYEOF
rm -f "$VENV"/.detkd-installed-*
touch "$stamp"
log "done in $(( $(date +%s) - start )) s"
