#!/usr/bin/env node
// Paper-scale wall time against the number of machines, from measured step costs (BENCHMARKS.md):
// the MEGC 2019 composite (442 micro clips, 68 subjects) guided by CK+ (327 clips), the `paper`
// preset (3 seeds, 6 rows, MaNet 20 and MiNet 30 pretraining epochs of batch 16, 20 fine-tuning
// epochs of n = 8 + 8, T = 16), one job at a time per machine, jobs given out first come, first served.
// Usage: node scripts/paper-scale.mjs [FINETUNE_STEP_MS] [TRAIN_STEP_MS] [FORWARD_MS] [OVERHEAD_S]
const [finetuneMs = 9142, trainStepMs = 461, forwardMs = 67, overheadS = 3] = process.argv.slice(2).map(Number);
const micro = 442, subjects = 68, macro = 327, seeds = 3, rows = 6, frames = 17; // T = 16 frames + the apex
const batch = 16, manetEpochs = 20, minetEpochs = 30, ftEpochs = 20, n = 8;
// a pretraining step is batch x 17 images forward and backward; the bench's train step is 8 images
const pretrainStepS = (batch * frames * trainStepMs) / 8 / 1000;
const train = micro - micro / subjects; // micro training clips of a fold
const minetS = minetEpochs * Math.ceil(train / batch) * pretrainStepS;
const rowS = ftEpochs * Math.floor(train / n) * (finetuneMs / 1000);
const foldS = minetS + rows * rowS + (micro / subjects) * (forwardMs / 8 / 1000) * frames * rows + overheadS;
const manetS = manetEpochs * Math.ceil(macro / batch) * pretrainStepS + micro * frames * (forwardMs / 8 / 1000) + overheadS;
const h = (s) => s / 3600;
console.log(`pretraining step ${pretrainStepS.toFixed(1)} s; MiNet pretraining ${h(minetS).toFixed(2)} h; one row ${h(rowS).toFixed(2)} h; fold job ${h(foldS).toFixed(1)} h; MaNet job ${h(manetS).toFixed(2)} h`);
console.log(`total ${h(seeds * (manetS + subjects * foldS)).toFixed(0)} machine-hours`);
// list scheduling: MaNet jobs first; a seed's fold jobs become ready when its MaNet is done
function wall(machines) {
  const free = new Array(machines).fill(0);
  const take = (ready, d) => {
    free.sort((a, b) => a - b);
    const start = Math.max(free[0], ready);
    free[0] = start + d;
    return start + d;
  };
  const manetDone = Array.from({ length: seeds }, () => take(0, manetS));
  let end = Math.max(...manetDone);
  for (let f = 0; f < subjects; f++) for (let s = 0; s < seeds; s++) end = Math.max(end, take(manetDone[s], foldS));
  return end;
}
console.log('| machines | wall time | days | machine-hours used |');
console.log('|---|---|---|---|');
for (const m of [1, 2, 4, 8, 16, 32, 68, 102, 204, 408]) {
  const w = wall(m);
  console.log(`| ${m} | ${h(w).toFixed(0)} h | ${(h(w) / 24).toFixed(1)} | ${h(w * m).toFixed(0)} |`);
}
