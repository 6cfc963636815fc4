#!/usr/bin/env bash
# Build the Paddle venv used only to generate the PaddleDetection parity fixtures
# (tools/paddle_parity/make_fixtures.py). It is separate from the project's .venv:
# paddledet 2.6 pins numpy<1.24 and opencv<=4.6, which mmdet's stack does not want.
#
#   bash tools/paddle_parity/setup_venv.sh [VENV_DIR]     (default: .venv-paddle)
#
# paddlepaddle 2.6.2 (CPU) has a cp311 wheel; paddledet 2.6.0 is installed with
# --no-deps and only what `import ppdet.modeling` (models, losses, assigners, NMS)
# needs is added, at versions that install on Python 3.11.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${1:-$ROOT/.venv-paddle}"
PY="${PYTHON:-python3.11}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check)

"${PIP[@]}" --upgrade "pip<25" "setuptools<70" wheel
# Paddle first, with a numpy 1.x (paddle 2.6 wheels are built against numpy 1.x).
# Versions below are the set this script was last run with (Python 3.11.7).
"${PIP[@]}" "paddlepaddle==2.6.2" "numpy==1.26.4"
"${PIP[@]}" --no-deps "paddledet==2.6.0"
# What `import ppdet.modeling` pulls in (ppdet/__init__ imports data, metrics and the
# MOT trackers too): checked by listing sys.modules after the import. shapely, lap,
# motmetrics, numba, visualdl are not needed (ppdet only warns about the last three).
# pycocotools is held at 2.0.8: the 2.0.11 wheel's _mask extension segfaults in
# inflateReset2 (zlib clash) when imported after paddle.
"${PIP[@]}" \
    "numpy==1.26.4" \
    "opencv-python-headless==4.8.1.78" \
    "pycocotools==2.0.8" \
    "scipy==1.13.1" "typeguard==2.13.3" "matplotlib==3.8.4" \
    "scikit-learn==1.5.2" "pandas==2.2.3" \
    "pyyaml" "tqdm" "six" "pillow" "requests" "Cython"

"$VENV/bin/python" - <<'PY'
import paddle
import ppdet
import ppdet.modeling  # noqa: F401
print('paddle', paddle.__version__, 'ppdet', ppdet.__version__)
PY
