#!/usr/bin/env bash
# `mimanet bench` at the paper's size on each GPU route present (webgpu on a real GPU adapter,
# tfjs-node-gpu when it can be imported), each interleaved with PyTorch (bench/torch_ref.py) on CUDA
# when PyTorch sees a GPU (else on the CPU), A B A B, in the table of `mimanet bench --against-torch`.
#
#   bench/gpu.sh                 # 5 pairs per route; reports in bench/results/gpu-<date>/
#   PAIRS=3 PYTHON=/opt/venv/bin/python bench/gpu.sh
#   ALLOW_CPU_ADAPTER=1 BENCH_ARGS="--size 32 --width 2 --n 2 --steps 1" PAIRS=1 bench/gpu.sh
#                                # a dry run of the script on SwiftShader (times nothing of interest)
#
# Needs a built checkout (npm install) and, for the PyTorch side, a python with torch
# (PYTHON, else MIMANET_PYTHON, else python3). Exits 2 when no GPU route is usable.
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-5}
THREADS=${THREADS:-$(nproc)}
PYTHON=${PYTHON:-${MIMANET_PYTHON:-python3}}
OUT=${OUT:-bench/results/gpu-$(date -u +%Y%m%d-%H%M%S)}
# extra `mimanet bench` options (default none: the paper's size)
read -r -a BENCH_EXTRA <<< "${BENCH_ARGS:-}"
MIMANET="node bin/mimanet.js"

routes=()
# webgpu: only on an adapter that is not a CPU driver (SwiftShader would time the CPU)
if probe=$($MIMANET bench --backend webgpu --size 32 --width 2 --batch 2 --steps 1 --skip-finetune --json 2>/dev/null); then
  if node -e 'const r = JSON.parse(process.argv[1]); process.exit(r.adapter && (!r.adapter.cpu || process.env.ALLOW_CPU_ADAPTER === "1") ? 0 : 1)' "$probe"; then
    routes+=(webgpu)
  else
    echo "gpu.sh: webgpu runs only on a CPU driver here: $probe" >&2
  fi
else
  echo "gpu.sh: webgpu unavailable (mimanet bench --backend webgpu failed)" >&2
fi
if node -e "import('@tensorflow/tfjs-node-gpu').then(() => process.exit(0), () => process.exit(1))" 2>/dev/null; then
  routes+=(tfjs-node-gpu)
else
  echo "gpu.sh: @tensorflow/tfjs-node-gpu is not installed (or cannot load CUDA 11.2 / cuDNN 8.1)" >&2
fi
if [ ${#routes[@]} -eq 0 ]; then
  echo "gpu.sh: no GPU route to time" >&2
  exit 2
fi

device=cpu
if "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then device=cuda; fi
echo "gpu.sh: routes ${routes[*]}; PyTorch on $device ($PYTHON); $PAIRS pairs each; reports in $OUT" >&2
[ "$device" = cuda ] || echo "gpu.sh: PyTorch sees no CUDA device: its side runs on the CPU" >&2

mkdir -p "$OUT"
if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.csv" || true; fi
for route in "${routes[@]}"; do
  echo "== $route against PyTorch ($device)" >&2
  # the table, then the report as one JSON line
  $MIMANET bench --against-torch --pairs "$PAIRS" --threads "$THREADS" --backend "$route" \
    --torch-device "$device" --python "$PYTHON" ${BENCH_EXTRA[@]+"${BENCH_EXTRA[@]}"} | tee "$OUT/$route.md"
done
