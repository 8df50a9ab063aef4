#!/usr/bin/env bash
# Installs the PyTorch CPU baseline for the benchmarks (train-job/bench) (Debian bookworm's python3-torch 1.13 with the pthread
# OpenBLAS: without libopenblas0-pthread PyTorch falls back to the reference BLAS and runs ~10x slower).
# Kept out of the test run on purpose: only the benchmarks need it.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q python3-torch libopenblas0-pthread
fi
/usr/bin/python3 -c "import torch; print('torch', torch.__version__)"
