/**
 * One spotting run of the page: frames go to the spot worker in capture order, every one is
 * analysed (a queue: when the flow is slower than the camera the page falls behind and says by
 * how much), the score, the intervals found so far and the lag are shown as results come back,
 * and each micro interval is recognised by the loaded checkpoint on its onset..apex frames.
 */
import type { IntervalClip, SpottedInterval, SpotOptions, Timeline } from '../../src/browser.js';
import { type DemoModel, predictClip } from './model.js';
import { frameBytes, resampleClip, type Rect, type RgbaImage } from './preprocess.js';
import { SpotChart } from './spot-chart.js';
import { type SpotRunState, runTimeline, timelineCsvText, timelineJson } from './spot-export.js';
import type { SpotReply, SpotRequest } from './spot-messages.js';
import { formatPercent } from './chart.js';

/** Side of the grey frames the spotter works on: `mimanet spot`'s default `--size`. */
export const SPOT_SIZE = 64;
/** Frames one run keeps at most (3 min at 30 fps); the run ends there. */
export const MAX_SPOT_FRAMES = 5400;
/** Frames a video may be ahead of the spotter before reading pauses (memory of the queue). */
export const VIDEO_QUEUE_FRAMES = 120;
/** Least time between two redraws, ms. */
const REDRAW_MS = 250;

export interface SpotUi {
  panel: HTMLElement;
  progress: HTMLElement;
  chart: HTMLElement;
  rows: HTMLElement;
  csv: HTMLButtonElement;
  json: HTMLButtonElement;
}

/** A micro interval's recognition: the class and the probabilities of every class. */
export interface IntervalLabel {
  label: string;
  probs: number[];
}

const key = (iv: IntervalClip): string => `${iv.onset}:${iv.apex}`;

export class SpotRun {
  /** The grey frames the spotter was given, SPOT_SIZE x SPOT_SIZE bytes each, in order. */
  readonly grey: Uint8Array[] = [];
  private readonly modelFrames: Uint8Array[] = [];
  private readonly worker: Worker;
  private readonly chart: SpotChart;
  private readonly labels = new Map<string, IntervalLabel>();
  /** Each micro interval's recognition, started once (one model call at a time). */
  private readonly recognitions = new Map<string, Promise<number[]>>();
  /** The model input of each labelled micro interval (its onset..apex resampled to T frames). */
  private readonly clips = new Map<string, Uint8Array>();
  /** Called when a labelled micro interval's row is clicked. */
  onPick: (iv: SpottedInterval, label: IntervalLabel, clip: Uint8Array) => void = () => {};
  private labelling: Promise<void> = Promise.resolve();
  private options: SpotOptions | null = null;
  private score: number[] = [];
  private intervals: SpottedInterval[] = [];
  private passes: Array<{ name: 'micro' | 'macro'; k: number; threshold: number }> = [];
  /** The worker's time for all frames so far, ms. */
  private workerMs = 0;
  private processed = 0;
  private firstSentAt = 0;
  private lastResultAt = 0;
  private closed = false;
  private wasAborted = false;
  private failed: Error | null = null;
  private lastDraw = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly ui: SpotUi,
    readonly fps: number,
    readonly video: string,
    readonly source: string,
    private readonly model: DemoModel | null,
    private readonly onError: (e: Error) => void,
  ) {
    this.worker = new Worker(new URL('./spot-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<SpotReply>) => this.onReply(ev.data);
    this.worker.onerror = (ev) => this.fail(new Error(`spot worker: ${ev.message || 'failed to start'}`));
    this.post({ type: 'start', width: SPOT_SIZE, height: SPOT_SIZE, options: { fps } });
    ui.panel.hidden = false;
    ui.panel.dataset.state = 'running';
    ui.rows.replaceChildren();
    this.chart = new SpotChart(ui.chart);
    ui.csv.onclick = () => void this.files().then((f) => download(`${this.video}.spot.csv`, f.csv, 'text/csv'), (e) => this.onError(e as Error));
    ui.json.onclick = () => void this.files().then((f) => download(`${this.video}.spot.json`, `${JSON.stringify(f.json, null, 1)}\n`, 'application/json'), (e) => this.onError(e as Error));
    ui.csv.disabled = ui.json.disabled = true;
    this.render(true);
  }

  /** Frames handed to the spotter. */
  get captured(): number {
    return this.grey.length;
  }

  /** Whether the run was ended by {@link abort}. */
  get aborted(): boolean {
    return this.wasAborted;
  }

  /** Whether the run still takes frames. */
  get open(): boolean {
    return !this.closed && !this.failed && this.captured < MAX_SPOT_FRAMES;
  }

  /** Frames analysed per second of wall time, from the first frame handed over to the latest result. */
  get processingFps(): number | null {
    const s = (this.lastResultAt - this.firstSentAt) / 1000;
    return this.processed > 0 && s > 0 ? this.processed / s : null;
  }

  /** Takes one picture (or `crop` of it): its grey frame goes to the spotter, its model frame is kept for recognition. */
  add(img: RgbaImage, crop?: Rect): void {
    if (!this.open) return;
    const grey = frameBytes(img, SPOT_SIZE, 1, crop);
    this.grey.push(grey);
    if (this.model) {
      const { size } = this.model.meta.net;
      const channels = this.model.meta.frameChannels;
      this.modelFrames.push(size === SPOT_SIZE && channels === 1 ? grey : frameBytes(img, size, channels, crop));
    }
    if (this.captured === 1) this.firstSentAt = performance.now();
    const f = Float32Array.from(grey);
    this.post({ type: 'frame', grey: f.buffer }, [f.buffer]);
    this.render();
  }

  /** Resolves once the spotter is at most `n` frames behind. */
  async behindAtMost(n: number): Promise<void> {
    while (!this.failed && !this.wasAborted && this.captured - this.processed > n) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** No more frames: resolves when every frame is analysed and the micro intervals are labelled. */
  async close(): Promise<Timeline> {
    this.closed = true;
    this.render(true);
    await this.behindAtMost(0);
    if (this.failed) throw this.failed;
    if (this.wasAborted) return runTimeline(this.state());
    this.label();
    await this.labelling;
    this.worker.terminate();
    const t = await runTimeline(this.state());
    this.ui.panel.dataset.state = 'done';
    this.render(true);
    return t;
  }

  /** Ends the run at once (a new source started). */
  abort(): void {
    this.closed = true;
    this.wasAborted = true;
    this.worker.terminate();
    if (this.ui.panel.dataset.state === 'running') this.ui.panel.dataset.state = 'stopped';
    for (const w of this.waiters.splice(0)) w();
  }

  /** The run as the timeline files need it: the intervals so far, recognised by {@link recognise}. */
  state(): SpotRunState {
    return {
      video: this.video,
      source: this.source,
      size: SPOT_SIZE,
      options: this.options ?? ({ fps: this.fps } as SpotOptions),
      frames: this.processed,
      intervals: this.intervals,
      passes: this.passes,
      score: this.score,
      processingFps: this.processingFps,
      model: this.model ? { source: this.model.source, labels: this.model.meta.labels } : null,
      recognise: (clip) => this.recognise(clip),
    };
  }

  /** The timeline files (what the download buttons save) as they stand. */
  async files(): Promise<{ json: Record<string, unknown>; csv: string }> {
    const s = this.state();
    const t = await runTimeline(s);
    return { json: timelineJson(s, t), csv: timelineCsvText(s, t) };
  }

  /**
   * Class probabilities of a micro interval: its onset..apex frames at the model's size, resampled
   * to T and run through the model as the demo's dropped frames are; computed once an interval.
   */
  recognise(clip: IntervalClip): Promise<number[]> {
    const model = this.model;
    if (!model) return Promise.reject(new Error('no model loaded to recognise the micro intervals'));
    const k = key(clip);
    let p = this.recognitions.get(k);
    if (!p) {
      const frames = resampleClip(this.modelFrames.slice(clip.onset, clip.apex + 1), model.meta.net.frames);
      this.clips.set(k, frames);
      p = this.labelling.then(async () => (await predictClip(model, frames)).probs);
      this.labelling = p.then(
        () => undefined,
        () => undefined,
      );
      this.recognitions.set(k, p);
    }
    return p;
  }

  private post(m: SpotRequest, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    this.ui.panel.dataset.state = 'error';
    this.worker.terminate();
    for (const w of this.waiters.splice(0)) w();
    this.onError(e);
  }

  private onReply(r: SpotReply): void {
    if (r.type === 'error') return this.fail(new Error(r.message));
    if (r.type === 'started') {
      this.options = r.options;
      return;
    }
    this.processed = r.frames;
    this.lastResultAt = performance.now();
    this.workerMs += r.ms;
    this.score = r.score;
    this.intervals = r.intervals;
    this.passes = r.passes;
    this.label();
    for (const w of this.waiters.splice(0)) w();
    this.render();
  }

  /** Queues recognition of the micro intervals not labelled yet (one model call at a time). */
  private label(): void {
    const model = this.model;
    if (!model) return;
    for (const iv of this.intervals) {
      if (iv.kind !== 'micro' || this.labels.has(key(iv))) continue;
      const k = key(iv);
      this.labels.set(k, { label: '…', probs: [] });
      this.recognise(iv).then(
        (probs) => {
          this.labels.set(k, { label: model.meta.labels[probs.indexOf(Math.max(...probs))]!, probs });
          this.render(true);
        },
        (e) => {
          this.labels.delete(k);
          this.fail(e instanceof Error ? e : new Error(String(e)));
        },
      );
    }
  }

  private render(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < REDRAW_MS && this.processed < this.captured) return;
    this.lastDraw = now;
    const { ui } = this;
    const behind = this.captured - this.processed;
    const fps = this.processingFps;
    const ms = this.processed > 0 ? this.workerMs / this.processed : NaN;
    const parts = [`${this.processed} of ${this.captured} frames analysed at ${this.fps} fps`];
    if (fps !== null) parts.push(`${fps.toFixed(1)} frames a second`);
    if (Number.isFinite(ms)) parts.push(`${ms.toFixed(0)} ms a frame in the spotter (mean)`);
    if (behind > 0) parts.push(`${(behind / this.fps).toFixed(1)} s behind`);
    if (this.captured >= MAX_SPOT_FRAMES) parts.push(`stopped at ${MAX_SPOT_FRAMES} frames`);
    ui.progress.textContent = parts.join(' · ');
    ui.panel.dataset.captured = String(this.captured);
    ui.panel.dataset.processed = String(this.processed);
    if (fps !== null) ui.panel.dataset.fps = fps.toFixed(2);
    if (Number.isFinite(ms)) ui.panel.dataset.frameMs = ms.toFixed(1);
    this.chart.draw(this.score, this.intervals, this.fps);
    ui.rows.replaceChildren(...this.intervals.map((iv) => this.row(iv)));
    ui.csv.disabled = ui.json.disabled = this.processed === 0;
  }

  private row(iv: SpottedInterval): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.className = iv.kind;
    const l = iv.kind === 'micro' ? this.labels.get(key(iv)) : undefined;
    Object.assign(tr.dataset, { onset: String(iv.onset), apex: String(iv.apex), offset: String(iv.offset), kind: iv.kind, score: String(iv.score), label: l?.label ?? '' });
    const best = l && l.probs.length ? Math.max(...l.probs) : undefined;
    const cells = [iv.kind, String(iv.onset), String(iv.apex), String(iv.offset), `${(iv.onset / this.fps).toFixed(2)}–${((iv.offset + 1) / this.fps).toFixed(2)} s`, iv.score.toFixed(2), l ? `${l.label}${best !== undefined ? ` (${formatPercent(best)})` : ''}` : iv.kind === 'micro' ? (this.model ? '' : 'no model') : '—'];
    tr.replaceChildren(
      ...cells.map((c, i) => {
        const td = document.createElement('td');
        td.textContent = c;
        if (i >= 1 && i <= 5) td.className = 'num';
        return td;
      }),
    );
    if (l && l.probs.length && this.model) {
      tr.title = `${this.model.meta.labels.map((name, i) => `${name} ${formatPercent(l.probs[i]!)}`).join(', ')} (click: show it above)`;
      tr.classList.add('pickable');
      tr.onclick = () => this.onPick(iv, l, this.clips.get(key(iv))!);
    }
    return tr;
  }
}

/** Saves `text` as a file through a Blob link. */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
