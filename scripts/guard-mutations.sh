#!/usr/bin/env bash
# Breaks the method on purpose, one way at a time, and checks that the guard
# tests (test/method-guards.test.ts, test/train.test.ts) fail for each break.
# Each source file is restored from a backup after its mutation. Exit 1 if a
# break goes unnoticed.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
mutate() { # NAME FILE OLD NEW
  local name=$1 file=$2 backup
  backup=$(mktemp)
  cp "$file" "$backup"
  python3 - "$file" "$3" "$4" <<'PY' || { echo "cannot apply: $1"; status=1; rm -f "$backup"; return; }
import sys
p, old, new = sys.argv[1:4]
s = open(p).read()
if old not in s:
    sys.exit(f"{p}: text to break not found")
open(p, 'w').write(s.replace(old, new, 1))
PY
  local out
  out=$(npx vitest run test/method-guards.test.ts test/train.test.ts 2>&1)
  cp "$backup" "$file"; rm -f "$backup"
  if echo "$out" | grep -qE '^ +Tests +[0-9]+ failed'; then
    echo "caught: $name ($(echo "$out" | grep -E '^ +Tests ' | sed 's/^ *//'))"
  else
    echo "MISSED: $name"; status=1
  fi
}
FT=src/train/finetune.ts
mutate "no reversal layer before D_s" $FT "gradientReversal(r.apexMap, lambda)" "r.apexMap"
mutate "no reversal layer before D_t" $FT "gradientReversal(v, lambda)" "v"
mutate "D_s not updated" $FT "return [heads.Ds, heads.Dt, heads.Cs]" "return [heads.Dt, heads.Cs]"
mutate "D_t not updated" $FT "return [heads.Ds, heads.Dt, heads.Cs]" "return [heads.Ds, heads.Cs]"
mutate "C_s not updated" $FT "return [heads.Ds, heads.Dt, heads.Cs]" "return [heads.Ds, heads.Dt]"
mutate "MaNet's batch-norm statistics move during fine-tuning" $FT "{ training: false, temporal: 'intervals', starts: batch.starts }" "{ training: true, temporal: 'intervals', starts: batch.starts }"
EX=src/train/experiment.ts
mutate "held-out clips in MiNet pretraining" $EX "        train,
        seed: deriveSeed(job.seed, 'minet-train'" "        train: [...train, ...fold.test],
        seed: deriveSeed(job.seed, 'minet-train'"
mutate "held-out clips in guided fine-tuning" $EX "          data.micro,
          train," "          data.micro,
          [...train, ...fold.test],"
mutate "batch-norm statistics updated on test clips" src/train/pretrain.ts "net.forward(batch.apex, batch.frames, { training: false, temporal }).logits" "net.forward(batch.apex, batch.frames, { training: true, temporal }).logits"
mutate "centred windows at evaluation (frames ignored)" src/model/twostream.ts "const w = tf.tensor3d(temporalFrameWeights('intervals', this.config), [1, T, 1]);" "const w = tf.tensor3d(temporalFrameWeights('intervals', this.config).map((x, t) => (t === T - 1 ? 0 : x)), [1, T, 1]);"
exit $status
