/**
 * What `mimanet spot` writes: a JSON record (options, per-frame score and
 * intervals), the intervals as CSV in the columns `mimanet spot score` reads,
 * and a page with the score over time and the intervals marked.
 */
import { formatCsv } from '../results/csv.js';
import { chartLibraries, escapeHtml, scriptJson } from '../eval/report-html.js';
import type { SpotOptions, SpotResult, SpottedInterval } from './spot.js';

/** `<name>.spot.json`. Frames are indices of the video's frames (0 = the first); times are frame / fps. */
export interface SpotRecord {
  video: string;
  source: string;
  fps: number;
  frames: number;
  /** Working size of the aligned face frames the flow was computed on. */
  size: number;
  options: SpotOptions;
  /** Per frame: the larger of the two passes' contrast over their threshold (1 = at the threshold). */
  score: number[];
  passes: Array<{ name: string; k: number; threshold: number }>;
  intervals: Array<SpottedInterval & { start: number; end: number }>;
}

export function spotRecord(video: string, source: string, size: number, options: SpotOptions, frames: number, r: SpotResult): SpotRecord {
  const t = (f: number): number => Number((f / options.fps).toFixed(4));
  return {
    video,
    source,
    fps: options.fps,
    frames,
    size,
    options,
    score: Array.from(r.score, (x) => Number(x.toFixed(5))),
    passes: r.passes.map((p) => ({ name: p.name, k: p.k, threshold: p.threshold })),
    intervals: r.intervals.map((i) => ({ ...i, score: Number(i.score.toFixed(5)), start: t(i.onset), end: t(i.offset + 1) })),
  };
}

/** The intervals as CSV: video,onset,apex,offset,kind,score,start_s,end_s (what `spot score --pred` reads). */
export function intervalsCsv(records: readonly SpotRecord[]): string {
  const rows: Array<Array<string | number>> = [['video', 'onset', 'apex', 'offset', 'kind', 'score', 'start_s', 'end_s']];
  for (const r of records) for (const i of r.intervals) rows.push([r.video, i.onset, i.apex, i.offset, i.kind, i.score, i.start, i.end]);
  return formatCsv(rows);
}

/** One self-contained page: the score over time with the threshold, the intervals shaded by kind, and their table. */
export function spotHtml(r: SpotRecord): string {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 900,
    height: 220,
    layer: [
      {
        data: { values: r.intervals.map((i) => ({ start: i.start, end: i.end, kind: i.kind })) },
        mark: { type: 'rect', opacity: 0.25 },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: 'time (s)' },
          x2: { field: 'end' },
          color: { field: 'kind', type: 'nominal', scale: { domain: ['micro', 'macro'], range: ['#d62728', '#1f77b4'] } },
        },
      },
      {
        data: { values: r.score.map((s, f) => ({ t: f / r.fps, score: s })) },
        mark: { type: 'line', strokeWidth: 1 },
        encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'score', type: 'quantitative', title: 'motion score (1 = threshold)' } },
      },
      { data: { values: [{ y: 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
  const libs = chartLibraries();
  const rows = r.intervals
    .map((i) => `<tr><td>${i.kind}</td><td class="num">${i.onset}</td><td class="num">${i.apex}</td><td class="num">${i.offset}</td><td class="num">${i.start.toFixed(2)}–${i.end.toFixed(2)} s</td><td class="num">${i.score.toFixed(2)}</td></tr>`)
    .join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>Spotted movements: ${escapeHtml(r.video)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}.note{color:#666}</style>',
    ...libs.map((l) => `<script>/* ${l.name} ${l.version} (BSD-3-Clause) */\n${l.code}\n</script>`),
    '</head><body>',
    `<h1>Spotted movements: ${escapeHtml(r.video)}</h1>`,
    `<p class="note">${escapeHtml(r.source)}: ${r.frames} frames at ${r.fps} fps (${(r.frames / r.fps).toFixed(1)} s), faces at ${r.size}x${r.size}; windows ${r.passes.map((p) => `${p.name} k = ${p.k}`).join(', ')}; p = ${r.options.p}.</p>`,
    '<div id="score"></div>',
    `<table><tr><th>kind</th><th>onset</th><th>apex</th><th>offset</th><th>time</th><th>score</th></tr>${rows || '<tr><td colspan="6">no movement above the threshold</td></tr>'}</table>`,
    `<script type="application/json" id="spec">${scriptJson(spec)}</script>`,
    `<script>vegaEmbed('#score', JSON.parse(document.getElementById('spec').textContent), { actions: false, renderer: 'svg' }).catch((e) => { document.getElementById('score').textContent = 'chart failed: ' + e.message; });</script>`,
    '</body></html>',
  ].join('\n');
}
