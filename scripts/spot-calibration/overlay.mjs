// Lays the intervals of a `mimanet spot-eval --out DIR` run over the generator's events: what each
// spotted interval overlaps most (an expression, a blink, a head movement, or nothing), and a tally.
// Usage (after npm run build): node scripts/spot-calibration/overlay.mjs run-NN.yaml DIR [--seed N]
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { generateLongVideos } from '../../dist/data/synthetic/long-video.js';

const [file, dir, flag, seed] = process.argv.slice(2);
if (!file || !dir) throw new Error('usage: node scripts/spot-calibration/overlay.mjs GENERATOR.yaml OUTDIR [--seed N]');
const cfg = parse(readFileSync(file, 'utf8'));
if (flag === '--seed') cfg.seed = Number(seed);
const { videos } = generateLongVideos(cfg);
const lines = readFileSync(`${dir}/predictions.csv`, 'utf8').trim().split('\n');
const head = lines[0].split(',');
const preds = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((x, i) => [head[i], x])));
const iou = (a, b) => {
  const i = Math.max(0, Math.min(a.offset, b.offset) - Math.max(a.onset, b.onset) + 1);
  return i / (a.offset - a.onset + 1 + b.offset - b.onset + 1 - i);
};
const tally = {};
for (const v of videos) {
  const events = [...v.expressions, ...v.distractors];
  console.log(`${v.id} truth ${v.expressions.map((e) => `${e.kind}[${e.onset},${e.offset}]`).join(' ')}`);
  console.log(`  distractors ${v.distractors.map((e) => `${e.kind}[${e.onset},${e.offset}]`).join(' ')}`);
  for (const p of preds.filter((x) => x.video === v.id).map((x) => ({ onset: +x.onset, offset: +x.offset, kind: x.kind, score: +x.score }))) {
    const best = events.map((e) => ({ e, o: iou(p, e) })).sort((a, b) => b.o - a.o)[0];
    const on = best && best.o > 0 ? `${best.e.kind}${best.o >= 0.5 ? '' : ' (IoU < 0.5)'}` : 'nothing';
    tally[`${p.kind} on ${on}`] = (tally[`${p.kind} on ${on}`] ?? 0) + 1;
    console.log(`  ${p.kind} [${p.onset},${p.offset}] score ${p.score.toFixed(2)}: ${on}${best && best.o > 0 ? `, IoU ${best.o.toFixed(2)}` : ''}`);
  }
}
console.log(tally);
