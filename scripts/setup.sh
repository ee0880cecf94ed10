#!/usr/bin/env bash
# One-step set-up: a virtual environment in .venv with the project, its test tools and the
# CPU build of torch where no GPU is present, then the offline assets (weights, sample media).
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip_install() { "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@"; }

# torch first and on its own: which build to take is a machine question (see README).
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    if [ -n "${TORCH_INDEX_URL:-}" ]; then
        pip_install "$TORCH_SPEC" --index-url "$TORCH_INDEX_URL"
    else
        pip_install "$TORCH_SPEC"
    fi
fi

stamp="$VENV/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    pip_install -e ".[dev,ui]"
    touch "$stamp"
fi

# The browser tests of `faceswap ui` (tests/test_ui.py) drive Debian's chromium and its driver; nothing
# downloads a browser at test time, so install them through the system package manager when missing.
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
    if command -v apt-get > /dev/null; then
        as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
        $as_root apt-get update -qq && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver > /dev/null
    else
        echo "warning: chromium and chromedriver are missing and apt-get is not here; install them for tests/test_ui.py" >&2
    fi
fi

"$VENV/bin/faceswap" assets fetch > /dev/null
echo "set-up done: $VENV (faceswap $("$VENV/bin/faceswap" --version | cut -d' ' -f2)), assets in $("$VENV/bin/python" -c 'from faceswap.assets import cache_dir; print(cache_dir())')"
