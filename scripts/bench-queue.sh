#!/usr/bin/env bash
# Times one small run three ways on this machine: a local run on one thread (--workers 1), and the
# same run on the job queue with one and with two `mimanet worker` processes (wasm backend, one
# thread each). Needs redis-server and a build (npm run build). Prints the wall times, the speed-up
# of two workers over one, and the queue's overhead per job against the local run.
# Usage: scripts/bench-queue.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/mimanet-bench-queue-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
url="redis://127.0.0.1:$port"
# 6 LOSO folds x 2 rows: 7 jobs (MaNet, then 6 folds)
cat >"$work/small.json" <<'JSON'
{ "preset": "quick", "backend": "wasm", "variants": [["c"], ["c", "s", "sam", "t", "con"]],
  "data": { "kind": "synthetic", "options": { "micro": { "sources": 2, "subjectsPerSource": 3, "clipsPerSubject": 6 }, "macro": { "subjects": 8, "clipsPerSubject": 6 } } },
  "model": { "size": 32, "frames": 8, "width": 4, "sc": 2, "K": 4, "headWidths": [16, 16, 16] },
  "pretrain": { "manetEpochs": 4, "minetEpochs": 8, "batchSize": 16 }, "finetune": { "epochs": 8, "n": 8 } }
JSON
now() { date +%s.%N; }
mimanet() { node bin/mimanet.js "$@"; }
queued() { # $1 = worker processes, $2 = out
  local ws=()
  for i in $(seq "$1"); do node bin/mimanet.js worker --queue "$url" </dev/null >"$2.worker$i.log" 2>&1 & ws+=($!); pids+=($!); done
  sleep 3
  local t0; t0=$(now)
  mimanet run --config "$work/small.json" --out "$2" --queue "$url" --quiet >/dev/null
  echo "$(now) - $t0" | bc
  kill "${ws[@]}"; wait "${ws[@]}" 2>/dev/null || true
}
busy() { # seconds the workers of run $1 spent in jobs, from their logs
  cat "$1".worker*.log | sed -n 's/.*: done in \([0-9.]*\) s$/\1/p' | paste -sd+ | bc
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$repeats"); do
  t0=$(now); mimanet run --config "$work/small.json" --out "$work/local-$r" --workers 1 --quiet >/dev/null; tl=$(echo "$(now) - $t0" | bc)
  t1=$(queued 1 "$work/q1-$r")
  t2=$(queued 2 "$work/q2-$r")
  cmp -s "$work/local-$r/predictions.csv" "$work/q2-$r/predictions.csv" && same=yes || same=NO
  b1=$(busy "$work/q1-$r"); b2=$(busy "$work/q2-$r")
  printf 'run %s: local %.1f s, queue 1 worker %.1f s, 2 workers %.1f s; 2 vs 1: %.2fx; overhead per job (7 jobs): %.2f s; jobs in flight on average: %.2f (1 worker), %.2f (2 workers); mean job %.1f s (1 worker), %.1f s (2 workers); same predictions: %s\n' \
    "$r" "$tl" "$t1" "$t2" "$(echo "$t1 / $t2" | bc -l)" "$(echo "($t1 - $tl) / 7" | bc -l)" "$(echo "$b1 / $t1" | bc -l)" "$(echo "$b2 / $t2" | bc -l)" "$(echo "$b1 / 7" | bc -l)" "$(echo "$b2 / 7" | bc -l)" "$same"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
