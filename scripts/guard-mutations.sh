#!/usr/bin/env bash
# Breaks the method on purpose, one way at a time, and checks that a guard test fails for each
# break. Prints one line per break, `killed: <break> by <test>` or `survived: <break>`, keeps that
# output in docs/mutations.txt, and exits 1 if a break survives (2 if the guards fail unbroken).
# Each break runs only the tests meant to catch it, so the whole script takes minutes. Every file
# is restored after its break, and on exit, Ctrl-C or kill as well.
set -uo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
current=""  # the file now broken
tests=""    # the test run now going on
restore() {
  if [ -n "$current" ] && [ -f "$work/backup" ]; then cp "$work/backup" "$current"; fi
  current=""
}
stop() {
  restore
  if [ -n "$tests" ]; then kill "$tests" 2>/dev/null; fi
  exit "$1"
}
trap 'restore; rm -rf "$work"' EXIT
trap 'stop 130' INT
trap 'stop 143' TERM HUP

lines=()
say() { echo "$1"; lines+=("$1"); }
status=0

# The name of the first failed test in a vitest JSON report ("file > describe > title"), or nothing.
first_failure() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const f of r.testResults ?? []) for (const a of f.assertionResults ?? []) {
      if (a.status === "failed") { console.log(`${require("path").relative(process.cwd(), f.name)} > ${[...a.ancestorTitles, a.title].join(" > ")}`); process.exit(0); }
    }' "$1" 2>/dev/null
}

# Runs vitest on FILE, only the tests whose name matches PATTERN; the JSON report goes to $work/report.json.
# In the background, so that a signal is handled (and the file restored) at once.
guards() { # FILE PATTERN
  rm -f "$work/report.json"
  node_modules/.bin/vitest run "$1" -t "$2" --reporter=json --outputFile="$work/report.json" >"$work/log" 2>&1 &
  tests=$!
  wait "$tests"
  local rc=$?
  tests=""
  return $rc
}

mutate() { # NAME FILE OLD NEW TESTFILE TESTPATTERN
  local name=$1 file=$2
  cp "$file" "$work/backup"
  current=$file
  if ! node -e '
    const fs = require("fs");
    const [p, from, to] = process.argv.slice(1);
    const s = fs.readFileSync(p, "utf8");
    const at = s.indexOf(from);
    if (at < 0 || s.indexOf(from, at + 1) >= 0) { console.error(`${p}: the text to break is ${at < 0 ? "not found" : "there twice"}`); process.exit(1); }
    fs.writeFileSync(p, s.slice(0, at) + to + s.slice(at + from.length));' "$file" "$3" "$4"; then
    restore
    say "survived: $name (could not be applied: the code changed; update this script)"
    status=1
    return
  fi
  guards "$5" "$6"
  restore
  local killer
  killer=$(first_failure "$work/report.json")
  if [ -n "$killer" ]; then
    say "killed: $name by $killer"
  else
    say "survived: $name"
    status=1
  fi
}

MG=test/method-guards.test.ts
PT=test/paired.test.ts

# The guards must pass before anything is broken, or every break would look caught. (Read off the
# report, not the exit status: on a heavily loaded machine vitest can also fail on its own timeouts.)
all_passed() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const all = (r.testResults ?? []).flatMap((f) => f.assertionResults ?? []);
    process.exit(all.length > 0 && all.every((a) => a.status === "passed") ? 0 : 1);' "$1" 2>/dev/null
}
for f in $MG $PT test/checkpoint.test.ts; do
  guards "$f" ""
  if ! all_passed "$work/report.json"; then
    echo "the guard tests fail without any break ($f):" >&2
    tail -n 40 "$work/log" >&2
    exit 2
  fi
done

FT=src/train/finetune.ts
# reversal layers and their schedule
mutate "no reversal layer before D_s" $FT "gradientReversal(r.apexMap, lambda)" "r.apexMap" $MG "L_s reaches MiNet"
mutate "no reversal layer before D_t" $FT "gradientReversal(v, lambda)" "v" $MG "L_t reaches MiNet"
mutate "reversed gradient before D_s 1000 times too small" $FT "gradientReversal(r.apexMap, lambda)" "gradientReversal(r.apexMap, lambda * 1e-3)" $MG "L_s reaches MiNet"
mutate "reversed gradient before D_t 1000 times too small" $FT "gradientReversal(v, lambda)" "gradientReversal(v, lambda * 1e-3)" $MG "L_t reaches MiNet"
mutate "reversal coefficient stuck at dannLambda(0)" $FT "dannLambda(globalStep / totalSteps)" "dannLambda(0)" $MG "DANN schedule"
# heads in the optimiser, MaNet frozen
mutate "D_s not updated" $FT "return [heads.Ds, heads.Dt, heads.Cs]" "return [heads.Dt, heads.Cs]" $MG "one update changes every weight tensor"
mutate "D_t not updated" $FT "return [heads.Ds, heads.Dt, heads.Cs]" "return [heads.Ds, heads.Cs]" $MG "one update changes every weight tensor"
mutate "C_s not updated" $FT "return [heads.Ds, heads.Dt, heads.Cs]" "return [heads.Ds, heads.Dt]" $MG "one update changes every weight tensor"
mutate "MaNet's batch-norm statistics move during fine-tuning" $FT "{ training: false, temporal: 'intervals', starts: batch.starts }" "{ training: true, temporal: 'intervals', starts: batch.starts }" $MG "one update changes every weight tensor"
# L_sam: C_s's pairing, no reversal, no detach
mutate "C_s paired with another interval's MaNet features" $FT "Cs.apply(tf.concat([v, teacher.vs[k]], 0)" "Cs.apply(tf.concat([v, teacher.vs[0]], 0)" $MG "C_s classifies each MiNet"
mutate "reversal layer before C_s" $FT "Cs.apply(tf.concat([v, teacher.vs[k]], 0)" "Cs.apply(tf.concat([gradientReversal(v, lambda), teacher.vs[k]], 0)" $MG "C_s classifies each MiNet"
mutate "MiNet's v(s) detached before L_sam" $FT "Cs.apply(tf.concat([v, teacher.vs[k]], 0)" "Cs.apply(tf.concat([tf.tensor(v.dataSync(), v.shape), teacher.vs[k]], 0)" $MG "C_s classifies each MiNet"
# L_con: mapped labels, no detach
mutate "L_con given the macro labels" $FT "contrastiveLoss(r.z, mi.labels, teacher.z, macroAsMicro," "contrastiveLoss(r.z, mi.labels, teacher.z, ma.labels," $MG "L_con compares"
mutate "macro -> micro map applied off by one class" $FT "ma.labels.map((l) => opts.macroToMicro[l])" "ma.labels.map((l) => opts.macroToMicro[(l + 1) % opts.macroToMicro.length])" $MG "L_con compares"
mutate "MiNet's z detached before L_con" $FT "contrastiveLoss(r.z, mi.labels" "contrastiveLoss(tf.tensor2d(r.z.dataSync(), r.z.shape), mi.labels" $MG "L_con compares"
mutate "synthetic macro -> micro map with positive and surprise swapped" src/data/synthetic/config.ts "MACRO_TO_MICRO: readonly number[] = [0, 0, 0, 0, 1, 0, 2]" "MACRO_TO_MICRO: readonly number[] = [0, 0, 0, 0, 2, 0, 1]" $MG "macro -> micro map sends"
# windows of v(s) in training and at evaluation
TS=src/model/twostream.ts
mutate "training window sampler never draws the last start" $TS "rng.int(maxIntervalStart(2 ** k, cfg.K, cfg.frames) + 1)" "rng.int(maxIntervalStart(2 ** k, cfg.K, cfg.frames))" $MG "training sampler, enumerated"
mutate "centred windows at evaluation (frames ignored)" $TS "const w = tf.tensor3d(temporalFrameWeights('intervals', this.config), [1, T, 1]);" "const w = tf.tensor3d(temporalFrameWeights('intervals', this.config).map((x, t) => (t === T - 1 ? 0 : x)), [1, T, 1]);" $MG "changing any single frame"
# held-out clips and batch-norm statistics outside training
EX=src/train/experiment.ts
mutate "held-out clips in MiNet pretraining" $EX "        train,
        seed: deriveSeed(job.seed, 'minet-train'" "        train: [...train, ...fold.test],
        seed: deriveSeed(job.seed, 'minet-train'" $MG "see only its training subjects"
mutate "held-out clips in guided fine-tuning" $EX "          data.micro,
          train," "          data.micro,
          [...train, ...fold.test]," $MG "see only its training subjects"
PR=src/train/pretrain.ts
mutate "batch-norm statistics updated on test clips" $PR "net.forward(batch.apex, batch.frames, { training: false, temporal }).logits" "net.forward(batch.apex, batch.frames, { training: true, temporal }).logits" $MG "evaluation leaves every weight"
mutate "embeddings move MaNet's batch-norm statistics" $PR "net.forward(batch.apex, batch.frames, { training: false, temporal }).z" "net.forward(batch.apex, batch.frames, { training: true, temporal }).z" $MG "a whole fold with embeddings on"
# checkpoints of another evaluation-time aggregation
mutate "checkpoint of an older aggregation loaded silently" src/model/checkpoint-meta.ts "  if (temporal !== 'intervals') return;" "  return;" test/checkpoint.test.ts "evaluation-time aggregation"
# the paired bootstrap's two levels
PA=src/eval/paired.ts
mutate "bootstrap without the clip level" $PA "const clips = drawClips(seeds[0].labels.length);" "const clips = Int32Array.from(seeds[0].labels, (_, i) => i);" $PT "crossed"
mutate "bootstrap without the seed level" $PA "const drawn = seeds.map(() => seeds[rng.int(seeds.length)]);" "const drawn = seeds;" $PT "crossed"
mutate "bootstrap always nested (clips drawn afresh per seed)" $PA "const design = bootstrapDesign(seeds);" "const design: BootstrapDesign = 'nested';" $PT "crossed"
mutate "bootstrap crossed although the seeds scored different clips" $PA "  if (!first?.clips) return 'nested';" "  return 'crossed';" $PT "crossed"

killed=$(printf '%s\n' "${lines[@]}" | grep -c '^killed: ')
say "$killed of ${#lines[@]} mutations killed"
printf '%s\n' "${lines[@]}" >"$work/mutations.txt" && mv "$work/mutations.txt" docs/mutations.txt
exit $status
