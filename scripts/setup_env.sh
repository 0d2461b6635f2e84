#!/usr/bin/env bash
# Create .venv with everything irpipe needs, on a fresh Debian machine with Python 3.11.
# Idempotent: a finished environment is marked by .venv/.irpipe-ready and is not rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.irpipe-ready"
if [[ -f "$STAMP" && "$STAMP" -nt pyproject.toml ]]; then
  exit 0
fi

# cyvlfeat builds against VLFeat's C library; Debian ships it as libvlfeat-dev.
if ! dpkg -s libvlfeat-dev >/dev/null 2>&1; then
  echo "[setup] installing libvlfeat-dev"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libvlfeat-dev >/dev/null
fi

[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip setuptools wheel
# The pinned torch is the CPU build that lies on this machine's disk; an unpinned torch
# would pull a multi-GB CUDA build. Set IRPIPE_TORCH to choose another build.
$PIP install -q "${IRPIPE_TORCH:-torch==2.13.0}"
# cyvlfeat has no wheel: build it against the system VLFeat with numpy/Cython present.
$PIP install -q "numpy>=1.26,<3" "scipy>=1.11" "Cython>=3.0"
if ! "$VENV/bin/python" -c "import cyvlfeat" 2>/dev/null; then
  echo "[setup] building cyvlfeat from source (about 2 minutes)"
  CFLAGS="-I/usr/include" LDFLAGS="-L/usr/lib/$(uname -m)-linux-gnu" \
    $PIP install -q --no-build-isolation "cyvlfeat==0.7.1"
fi
$PIP install -q -e ".[dev]"
touch "$STAMP"
echo "[setup] environment ready in $VENV"
