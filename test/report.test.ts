import { describe, it, expect, beforeAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { summarize, type Prediction, type Summary } from '../src/eval/summary.js';
import { averageCurves, writeReport } from '../src/eval/report-html.js';
import { parseCsv, validateEmbeddings, type EmbeddingsFile } from '../src/results/index.js';
import { conditionalP, rowEntropy, tsne } from '../src/eval/tsne.js';
import { runCli, tempDir } from './helpers.js';
import { Rng } from '../src/util/rng.js';

const LABELS = ['negative', 'positive', 'surprise'];
const VARIANTS = [
  { name: 'L_c', losses: ['c'], key: 'c' },
  { name: 'L_c + L_s + L_sam + L_t + L_con', losses: ['c', 's', 'sam', 't', 'con'], key: 'c+s+sam+t+con' },
];
const SUBJECTS = ['casme2/s01', 'smic/s02'];

let dir: string;
let summary: Summary;

/** Fine-tuning curve of one fold run: L_c = 1 + fold + seed/10 at epoch 1, halved at epoch 2. */
function curve(seed: number, fold: number, losses: string[]): Array<Record<string, number>> {
  return [1, 2].map((epoch) => {
    const row: Record<string, number> = { epoch };
    for (const l of losses) row[l] = (1 + fold + seed / 10) / epoch + (l === 'c' ? 0 : 0.5);
    row.total = row.c * 2;
    return row;
  });
}

/** A results folder in the layout `mimanet run` writes: 2 seeds x 2 folds x 2 variants, two sources. */
function makeResults(): string {
  const out = tempDir('report');
  const rng = new Rng(4);
  const predictions: Prediction[] = [];
  const folds = ['seed,fold,subject,variant,clips,accuracy,correct,seconds'];
  for (const seed of [1, 2]) {
    for (const [fi, subject] of SUBJECTS.entries()) {
      for (const v of VARIANTS) {
        const preds = Array.from({ length: 6 }, (_, k) => {
          const label = k % 3;
          const pred = rng.next() < 0.6 ? label : (label + 1) % 3;
          const probs = [0.1, 0.1, 0.1];
          probs[pred] = 0.8;
          return { clipId: `${subject}_e${k}`, subject, source: subject.split('/')[0], label, pred, probs };
        });
        predictions.push(...preds.map((p) => ({ ...p, seed, variant: v.name, fold: subject })));
        const fdir = join(out, `seed-${seed}`, 'folds', `00${fi + 1}-${subject.replace('/', '_')}`);
        mkdirSync(fdir, { recursive: true });
        writeFileSync(
          join(fdir, `${v.key}.json`),
          JSON.stringify({ seed, fold: fi, subject, variant: v.name, losses: v.losses, predictions: preds, curves: curve(seed, fi, v.losses), pretrainCurve: [2 + fi, 1 + fi], seconds: 1 }),
        );
        // files of other kinds in a fold folder are not results
        writeFileSync(join(fdir, 'minet-pretrained.json'), JSON.stringify({ format: 'mimanet-weights', specs: [] }));
        const acc = preds.filter((p) => p.label === p.pred).length / preds.length;
        folds.push([seed, fi + 1, JSON.stringify(subject), JSON.stringify(v.name), 6, acc.toFixed(4), 0, '1.0'].join(','));
      }
    }
    writeFileSync(join(out, `seed-${seed}`, 'manet-curve.json'), JSON.stringify({ epochs: [2.5, 2.0], trainAccuracy: 0.4 }));
  }
  summary = summarize({ dataset: 'megc2019', labels: LABELS, variants: VARIANTS.map(({ name, losses }) => ({ name, losses })), predictions });
  writeFileSync(join(out, 'summary.json'), JSON.stringify({ ...summary, config: { preset: 'quick', model: { size: 32, channels: 1, frames: 4, width: 2, sc: 2, K: 2 } }, fingerprint: 'abcdef0123456789' }));
  writeFileSync(join(out, 'folds.csv'), folds.join('\n') + '\n');
  writeFileSync(join(out, 'predictions.csv'), 'seed,variant\n');
  // features: three classes far apart, micro and macro alike, 10 points per class and domain
  const points: EmbeddingsFile['points'] = [];
  for (const stage of ['before', 'after'] as const) {
    for (const [net, domain] of [['MiNet', 'micro'], ['MaNet', 'macro']] as const) {
      for (let i = 0; i < 30; i++) {
        const c = i % 3;
        points.push({ stage, net, domain, label: LABELS[c], z: Array.from({ length: 8 }, (_, k) => (k === c ? 6 : 0) + (domain === 'macro' && k === 7 ? 3 : 0) + rng.next()) });
      }
    }
  }
  writeFileSync(join(out, 'seed-1', 'embeddings.json'), JSON.stringify({ fold: SUBJECTS[0], labels: LABELS, points } satisfies EmbeddingsFile));
  return out;
}

function specsOf(html: string): Record<string, Record<string, unknown>> {
  const m = /<script type="application\/json" id="mimanet-specs">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no spec block');
  return JSON.parse(m[1]);
}

beforeAll(() => {
  dir = makeResults();
});

describe('HTML report', () => {
  let html: string;
  beforeAll(async () => {
    const path = await writeReport(dir);
    expect(path).toBe(join(dir, 'report.html'));
    html = readFileSync(path, 'utf8');
  });

  it('holds the tables in the paper layouts with mean ± std over the two seeds', () => {
    expect(html).toContain('UF1 and UAR (paper Table 3 layout)');
    expect(html).toContain('Accuracy and F1 (paper Table 2 layout)');
    expect(html).toContain('UF1 and UAR per source (paper Table 5 layout)');
    for (const v of summary.variants) {
      for (const [m, s] of [[v.UF1, v.UF1_std], [v.UAR, v.UAR_std], [v.accuracy, v.accuracy_std], [v.f1, v.f1_std], [v.perSource.smic.UF1, v.perSource.smic.UF1_std]]) {
        expect(html).toContain(`${m.toFixed(3)} ± ${s.toFixed(3)}`);
      }
    }
    expect(html).toContain('<th>casme2 UF1</th>');
    expect(html).toContain('<th>smic UAR</th>');
    expect(html).toContain('abcdef0123456789');
  });

  it('charts: confusion matrices summed over seeds, fold-averaged curves, pretraining, t-SNE maps', () => {
    const specs = specsOf(html);
    expect(Object.keys(specs).sort()).toEqual(['confusion-0', 'confusion-1', 'curves', 'embedding-0', 'paired-differences', 'pretrain']);
    for (const [i, v] of summary.variants.entries()) {
      const values = (specs[`confusion-${i}`].data as { values: Array<{ true: string; predicted: string; count: number }> }).values;
      expect(values).toHaveLength(9);
      const total = v.perSeed[0].confusion.map((row, r) => row.map((c, k) => c + v.perSeed[1].confusion[r][k]));
      for (const cell of values) expect(cell.count).toBe(total[LABELS.indexOf(cell.true)][LABELS.indexOf(cell.predicted)]);
    }
    const curves = (specs.curves.data as { values: Array<{ variant: string; term: string; epoch: number; mean: number; runs: number }> }).values;
    // L_c at epoch 1 over folds 0, 1 and seeds 1, 2: mean of 1.1, 1.2, 2.1, 2.2
    const c1 = curves.find((p) => p.variant === 'L_c' && p.term === 'L_c (Eq. 1)' && p.epoch === 1)!;
    expect(c1.mean).toBeCloseTo(1.65, 10);
    expect(c1.runs).toBe(4);
    expect(curves.filter((p) => p.variant === 'L_c').map((p) => p.term)).not.toContain('L_s (Eq. 2)');
    expect(curves.some((p) => p.variant === VARIANTS[1].name && p.term === 'L_con (Eq. 5-7)')).toBe(true);
    const pre = (specs.pretrain.data as { values: Array<{ net: string; epoch: number; mean: number }> }).values;
    // one pretraining per (seed, fold): epoch 1 values 2, 3, 2, 3
    expect(pre.find((p) => p.net.startsWith('MiNet') && p.epoch === 1)!.mean).toBe(2.5);
    expect(pre.find((p) => p.net.startsWith('MaNet') && p.epoch === 2)!.mean).toBe(2);
    const emb = (specs['embedding-0'].data as { values: Array<{ stage: string; label: string; x: number; y: number }> }).values;
    expect(emb).toHaveLength(120);
    for (const stage of new Set(emb.map((p) => p.stage))) {
      const pts = emb.filter((p) => p.stage === stage);
      // classes were far apart in feature space: each point's 2-D nearest neighbour shares its class
      let same = 0;
      for (const p of pts) {
        let best = pts[0] === p ? pts[1] : pts[0];
        for (const q of pts) if (q !== p && (q.x - p.x) ** 2 + (q.y - p.y) ** 2 < (best.x - p.x) ** 2 + (best.y - p.y) ** 2) best = q;
        if (best.label === p.label) same++;
      }
      expect(same / pts.length).toBeGreaterThan(0.9);
    }
  });

  it('is self-contained: the chart libraries are inlined, no external script, style or font URL', () => {
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*\shref=/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toMatch(/\/\* vega \d+\.\d+\.\d+ \(BSD-3-Clause\) \*\//);
    expect(html).toMatch(/\/\* vega-lite \d+\.\d+\.\d+/);
    expect(html).toMatch(/\/\* vega-embed \d+\.\d+\.\d+/);
    expect(html.length).toBeGreaterThan(500_000);
  });

  it('the same folder gives the same charts (seeded t-SNE)', async () => {
    const again = readFileSync(await writeReport(dir), 'utf8');
    expect(specsOf(again)).toEqual(specsOf(html));
  });

  const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('which', [b]).status === 0);
  it.skipIf(!chromium)('draws every chart in headless Chromium with the network off', () => {
    const dom = execFileSync(
      chromium!,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--virtual-time-budget=3000', '--dump-dom', `file://${join(dir, 'report.html')}`],
      { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'], timeout: 90_000 },
    );
    // (the page's own script mentions the failure text, so only element content counts)
    expect(/id="[^"]+"[^>]*>chart failed/.test(dom)).toBe(false);
    const drawn = ['confusion-0', 'confusion-1', 'curves', 'pretrain', 'embedding-0', 'paired-differences'].filter((id) => new RegExp(`id="${id}"[^>]*>\\s*<svg`).test(dom));
    expect(drawn).toHaveLength(6);
    // the t-SNE chart draws one mark per point: 120 points, twice (by class, by domain)
    const emb = dom.slice(dom.indexOf('id="embedding-0"'));
    expect(emb.slice(0, emb.indexOf('</svg>')).split('aria-roledescription="point"').length - 1).toBe(240);
  });
});

describe('report inputs and errors', () => {
  it('parses quoted CSV fields', () => {
    expect(parseCsv('a,"b,c","d ""q"""\r\n1,2,3\n')).toEqual([['a', 'b,c', 'd "q"'], ['1', '2', '3']]);
  });

  it('averages curves per variant, term and epoch', () => {
    const pts = averageCurves(
      [
        { seed: 1, subject: 'a', variant: 'v', losses: ['c'], curves: [{ epoch: 1, c: 1, total: 1 }], pretrainCurve: [] },
        { seed: 1, subject: 'b', variant: 'v', losses: ['c'], curves: [{ epoch: 1, c: 3, total: 3, lambda: 0.5 }], pretrainCurve: [] },
      ],
      ['v'],
    );
    expect(pts.map((p) => [p.term, p.mean, Number(p.hi.toFixed(6))])).toEqual([
      ['L_c (Eq. 1)', 2, Number((2 + Math.SQRT2).toFixed(6))],
      ['L (Eq. 8, weighted sum)', 2, Number((2 + Math.SQRT2).toFixed(6))],
    ]);
  });

  it('names the folder or file and the problem', async () => {
    const empty = tempDir('report-empty');
    await expect(writeReport(empty)).rejects.toThrow(/no summary.json; is this a results folder of `mimanet run`\?/);
    expect(() => validateEmbeddings({ fold: 'x', labels: [], points: [{ stage: 'during', net: 'MiNet', domain: 'micro', label: 'a', z: [1] }] }, 'e.json')).toThrow(
      /e.json: field "points\[0\].stage" is "during": expected "before" or "after"/,
    );
    expect(() =>
      validateEmbeddings({ fold: 'x', labels: [], points: [{ stage: 'before', net: 'MiNet', domain: 'micro', label: 'a', z: [1, 2] }, { stage: 'after', net: 'MaNet', domain: 'macro', label: 'a', z: [1] }] }, 'e.json'),
    ).toThrow(/e.json: field "points\[1\].z" is \[1\]: 1 values, point 0 has 2/);
    const bad = makeResults();
    writeFileSync(join(bad, 'seed-2', 'embeddings.json'), '{"fold": ');
    await expect(writeReport(bad)).rejects.toThrow(/seed-2\/embeddings.json: not valid JSON/);
  });

  it('mimanet report DIR prints the path of the page', async () => {
    const { code, out } = await runCli(['report', dir, '--tsne-points', '40']);
    expect(code).toBe(0);
    expect(out.trim()).toBe(join(dir, 'report.html'));
    expect(existsSync(out.trim())).toBe(true);
    // 40 points per stage at most
    expect((specsOf(readFileSync(out.trim(), 'utf8'))['embedding-0'].data as { values: unknown[] }).values).toHaveLength(80);
  });
});

describe('t-SNE', () => {
  it('calibrates each row to the perplexity: exp(H(P_i)) = perplexity', () => {
    const rng = new Rng(2);
    const n = 40;
    const x = Array.from({ length: n }, () => [rng.next() * 10, rng.next() * 10, rng.next()]);
    const d2 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d2[i * n + j] = x[i].reduce((s, v, k) => s + (v - x[j][k]) ** 2, 0);
    const P = conditionalP(d2, n, 8);
    for (const i of [0, 17, 39]) {
      expect(Math.exp(rowEntropy(P, n, i))).toBeCloseTo(8, 3);
      expect(P[i * n + i]).toBe(0);
      let s = 0;
      for (let j = 0; j < n; j++) s += P[i * n + j];
      expect(s).toBeCloseTo(1, 12);
    }
    // equidistant points: every neighbour equally likely
    const eq = conditionalP(Float64Array.from([0, 1, 1, 1, 0, 1, 1, 1, 0]), 3, 2);
    expect(Array.from(eq).map((v) => Number(v.toFixed(9)))).toEqual([0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0]);
  });

  it('is deterministic for a seed and keeps far-apart groups apart', () => {
    const rng = new Rng(5);
    const x = Array.from({ length: 45 }, (_, i) => Array.from({ length: 5 }, (_, k) => (k === i % 3 ? 8 : 0) + rng.next()));
    const a = tsne(x, { seed: 3, iterations: 300 });
    expect(tsne(x, { seed: 3, iterations: 300 })).toEqual(a);
    expect(tsne(x, { seed: 4, iterations: 300 })).not.toEqual(a);
    const centre = (c: number): number[] => {
      const pts = a.filter((_, i) => i % 3 === c);
      return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
    };
    const spread = (c: number): number => {
      const [cx, cy] = centre(c);
      return Math.max(...a.filter((_, i) => i % 3 === c).map((p) => Math.hypot(p[0] - cx, p[1] - cy)));
    };
    const [c0, c1] = [centre(0), centre(1)];
    expect(Math.hypot(c0[0] - c1[0], c0[1] - c1[1])).toBeGreaterThan(2 * Math.max(spread(0), spread(1)));
    expect(() => tsne([[1, 2], [1]])).toThrow(/point 1 has 1 values, point 0 has 2/);
  });
});

describe('HTML report: paired differences, sample efficiency, transfer diagnostic', () => {
  it('charts UF1 by training share, the intervals of the paired differences and MaNet alone', async () => {
    const out = tempDir('report-shares');
    const rng = new Rng(9);
    const predictions: Prediction[] = [];
    const rows = [
      { name: 'L_c', losses: ['c'], share: 1, p: 0.7 },
      { name: 'L_c + L_con', losses: ['c', 'con'], share: 1, p: 0.8 },
      { name: 'L_c (50% subjects)', losses: ['c'], share: 0.5, p: 0.5 },
      { name: 'L_c + L_con (50% subjects)', losses: ['c', 'con'], share: 0.5, p: 0.6 },
    ];
    const clip = (seed: number, variant: string, k: number, p: number): Prediction => {
      const label = k % 3;
      return { seed, variant, fold: `s${k % 4}`, clipId: `c${k}`, subject: `s${k % 4}`, source: 'x', label, pred: rng.next() < p ? label : (label + 1) % 3, probs: [1 / 3, 1 / 3, 1 / 3] };
    };
    for (const seed of [1, 2, 3]) for (const r of rows) for (let k = 0; k < 24; k++) predictions.push(clip(seed, r.name, k, r.p));
    const transfer = [1, 2, 3].flatMap((seed) => Array.from({ length: 24 }, (_, k) => clip(seed, 'MaNet', k, 0.4)));
    const s = summarize({ dataset: 'd', labels: LABELS, variants: rows.map(({ name, losses, share }) => ({ name, losses, share })), predictions, transfer });
    writeFileSync(join(out, 'summary.json'), JSON.stringify({ ...s, config: { preset: 'quick' } }));
    const html = readFileSync(await writeReport(out), 'utf8');
    const specs = specsOf(html);
    const eff = (specs['sample-efficiency'].data as { values: Array<{ losses: string; share: number; UF1: number }> }).values;
    expect(eff).toHaveLength(4);
    for (const v of s.variants) expect(eff.find((e) => e.share === v.share && e.losses === v.losses.map((l) => `L_${l}`).join(' + '))!.UF1).toBe(v.UF1);
    const diffs = (specs['paired-differences'].data as { values: Array<{ variant: string; metric: string; mean: number; lo: number; hi: number }> }).values;
    // one L_con row per share, each against the L_c row of its own share
    expect(diffs.map((d) => `${d.variant}/${d.metric}`).sort()).toEqual(['L_c + L_con (50% subjects)/UAR', 'L_c + L_con (50% subjects)/UF1', 'L_c + L_con/UAR', 'L_c + L_con/UF1']);
    const d = diffs.find((x) => x.variant === 'L_c + L_con' && x.metric === 'UF1')!;
    expect(d.mean).toBe(s.variants[1].vsBaseline!.UF1.mean);
    expect(d.lo).toBeLessThanOrEqual(d.mean);
    expect(d.hi).toBeGreaterThanOrEqual(d.mean);
    expect(html).toContain('Transfer diagnostic: MaNet alone');
    expect(html).toContain(`${s.transfer!.UF1.toFixed(3)} ± ${s.transfer!.UF1_std.toFixed(3)}`);
    // every seed scored the same clips: the intervals are crossed, and the page says so
    expect(s.variants[1].vsBaseline!.UF1.design).toBe('crossed');
    expect(html).toContain('The bootstrap is crossed (every seed scored the same clips');
    expect(html).not.toContain('<th>design</th>');
    // a summary written before designs were recorded had nested intervals; mixed with crossed ones, each row names its design
    const older = JSON.parse(JSON.stringify(s));
    for (const m of ['UF1', 'UAR']) delete older.variants[3].vsBaseline[m].design;
    writeFileSync(join(out, 'summary.json'), JSON.stringify({ ...older, config: { preset: 'quick' } }));
    const mixed = readFileSync(await writeReport(out), 'utf8');
    expect(mixed).toMatch(/The bootstrap is crossed \(every seed scored the same clips[^)]*\) or nested \(the seeds scored different clips[^)]*\), as the column design says/);
    expect(mixed).toContain('<th>design</th>');
    expect(mixed).toMatch(/L_c \+ L_con \(50% subjects\)<\/td>.*?<td>nested<\/td><\/tr>/);
  });
});
