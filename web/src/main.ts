/**
 * The demo page: load a MiNet checkpoint, feed it an aligned clip (image
 * frames), a video or the webcam, show the class probabilities; or spot the
 * expressions of a video or the webcam (`mimanet spot`'s spotter, in a worker)
 * and recognise each micro-expression.
 */
import * as tf from '@tensorflow/tfjs';
import { type DemoModel, type Prediction, backendDetail, chooseBackend, loadFromFiles, loadFromUrl, predictClip } from './model.js';
import { centreSquare, frameBytes, naturalCompare, resampleClip, resampleRun } from './preprocess.js';
import { decodeImage, seek, seekFrame, startWebcam, videoPixels } from './sources.js';
import { TimelineChart, formatPercent, renderBars } from './chart.js';
import { planIndices, resamplePlan } from '../../src/browser.js';
import { MAX_SPOT_FRAMES, SpotRun, VIDEO_QUEUE_FRAMES } from './spot-run.js';

/** Fewest frames of a clip, onset and apex (as on the command line). */
export const MIN_CLIP_FRAMES = 2;
/** Frames a video is cut into at most (memory: each keeps size x size x C bytes). */
export const MAX_VIDEO_FRAMES = 3000;
/** Webcam windows kept in the chart. */
export const WEBCAM_HISTORY = 600;
/** Webcam windows whose input frames stay available for the thumbnails. */
export const WEBCAM_KEEP_CLIPS = 120;
/** Seconds of webcam history the chart shows. */
export const WEBCAM_SPAN_S = 20;

const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page lacks #${id}`);
  return e as T;
};

const ui = {
  backend: $<HTMLSpanElement>('backend'),
  backendDetail: $<HTMLParagraphElement>('backend-detail'),
  backendSelect: $<HTMLSelectElement>('backend-select'),
  urlForm: $<HTMLFormElement>('url-form'),
  modelUrl: $<HTMLInputElement>('model-url'),
  modelDir: $<HTMLInputElement>('model-dir'),
  modelFiles: $<HTMLInputElement>('model-files'),
  modelInfo: $<HTMLParagraphElement>('model-info'),
  frameFiles: $<HTMLInputElement>('frame-files'),
  videoFile: $<HTMLInputElement>('video-file'),
  webcam: $<HTMLButtonElement>('webcam'),
  fps: $<HTMLInputElement>('fps'),
  window: $<HTMLInputElement>('window'),
  step: $<HTMLInputElement>('step'),
  media: $<HTMLDivElement>('media'),
  player: $<HTMLVideoElement>('player'),
  guide: $<HTMLDivElement>('guide'),
  result: $<HTMLDivElement>('result'),
  predLabel: $<HTMLSpanElement>('pred-label'),
  predConf: $<HTMLSpanElement>('pred-conf'),
  predWhen: $<HTMLSpanElement>('pred-when'),
  bars: $<HTMLDivElement>('bars'),
  timelineBox: $<HTMLDivElement>('timeline-box'),
  thumbs: $<HTMLDivElement>('thumbs'),
  timing: $<HTMLParagraphElement>('timing'),
  mode: $<HTMLSelectElement>('mode'),
  spotSeconds: $<HTMLInputElement>('spot-seconds'),
  spot: {
    panel: $<HTMLElement>('spot-panel'),
    progress: $<HTMLParagraphElement>('spot-progress'),
    chart: $<HTMLDivElement>('spot-chart'),
    rows: $<HTMLElement>('spot-rows'),
    csv: $<HTMLButtonElement>('spot-csv'),
    json: $<HTMLButtonElement>('spot-json'),
  },
  status: $<HTMLParagraphElement>('status'),
  dropOverlay: $<HTMLDivElement>('drop-overlay'),
};

type Source = { kind: 'frames'; files: File[] } | { kind: 'video'; file: File } | { kind: 'webcam' };

let model: DemoModel | null = null;
let reloadModel: (() => Promise<DemoModel>) | null = null;
let source: Source | null = null;
/** Bumped whenever a new source or model starts, so a running analysis stops. */
let generation = 0;
let stopWebcam: (() => void) | null = null;
let videoUrl: string | null = null;
/** The spotting run in progress or last finished. */
let spotRun: SpotRun | null = null;
/** Ends a webcam spotting run: no more frames, the queued ones are still analysed. */
let finishSpot: (() => void) | null = null;

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

function report(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  setStatus(msg, 'error');
  console.error(e);
}

function intSetting(input: HTMLInputElement, name: string): number {
  const v = Number(input.value);
  const min = Number(input.min);
  const max = Number(input.max);
  if (!(Number.isInteger(v) && v >= min && v <= max)) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${input.value}"`);
  return v;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
}

// ---------- result display ----------

function showPrediction(pred: Pick<Prediction, 'probs' | 'best'>, clip: Uint8Array | undefined, when: string): void {
  if (!model) return;
  const { labels } = model.meta;
  ui.predLabel.textContent = labels[pred.best]!;
  ui.predConf.textContent = formatPercent(pred.probs[pred.best]!);
  ui.predWhen.textContent = when;
  renderBars(ui.bars, labels, pred.probs, pred.best);
  if (clip) renderThumbs(clip);
  else ui.thumbs.replaceChildren();
  ui.result.dataset.state = 'shown';
  ui.result.dataset.label = labels[pred.best]!;
  ui.result.dataset.probs = JSON.stringify(pred.probs);
}

function renderThumbs(clip: Uint8Array): void {
  if (!model) return;
  const { size, frames } = model.meta.net;
  const channels = model.meta.frameChannels;
  const per = size * size * channels;
  ui.thumbs.replaceChildren(
    ...Array.from({ length: frames }, (_, t) => {
      const fig = document.createElement('figure');
      const c = document.createElement('canvas');
      c.width = size;
      c.height = size;
      const img = new ImageData(size, size);
      for (let i = 0, o = t * per; i < size * size; i++) {
        const px = i * 4;
        for (let k = 0; k < 3; k++) img.data[px + k] = clip[o + i * channels + (channels === 1 ? 0 : k)]!;
        img.data[px + 3] = 255;
      }
      c.getContext('2d')!.putImageData(img, 0, 0);
      const cap = document.createElement('figcaption');
      cap.textContent = t === 0 ? 'onset' : t === frames - 1 ? 'apex' : String(t + 1);
      fig.append(c, cap);
      return fig;
    }),
  );
}

function clearResult(): void {
  ui.predLabel.textContent = '—';
  ui.predConf.textContent = '';
  ui.predWhen.textContent = '';
  ui.bars.replaceChildren();
  ui.thumbs.replaceChildren();
  ui.timelineBox.hidden = true;
  ui.timelineBox.replaceChildren();
  ui.timing.textContent = '';
  ui.result.dataset.state = 'empty';
  delete ui.result.dataset.label;
  delete ui.result.dataset.probs;
}

function showTiming(inferMs: number[], prepMs: number[], flowMs: number[] = []): void {
  const n = inferMs.length;
  const what = n > 1 ? `median of ${n} windows` : 'one clip';
  const flow = flowMs.length > 0 ? ` · optical flow ${median(flowMs).toFixed(1)} ms` : '';
  ui.timing.textContent = `inference ${median(inferMs).toFixed(1)} ms (${what}) · preprocessing ${median(prepMs).toFixed(1)} ms${flow} · backend ${tf.getBackend()}`;
  ui.timing.dataset.inferenceMs = String(median(inferMs));
  if (flowMs.length > 0) ui.timing.dataset.flowMs = String(median(flowMs));
  else delete ui.timing.dataset.flowMs;
}

// ---------- model ----------

async function useModel(load: () => Promise<DemoModel>, quiet = false): Promise<void> {
  const gen = ++generation;
  ui.modelInfo.textContent = 'Loading…';
  ui.modelInfo.dataset.state = 'loading';
  try {
    const next = await load();
    if (gen !== generation) {
      next.model.dispose();
      return;
    }
    model?.model.dispose();
    model = next;
    reloadModel = load;
    // first run builds shaders / warms wasm; timed apart so clip timings show the steady state
    const { size, frames } = next.meta.net;
    const channels = next.meta.frameChannels;
    const warm = await predictClip(next, new Uint8Array(frames * size * size * channels).fill(128));
    const m = next.meta;
    ui.modelInfo.textContent =
      `Loaded ${next.source}: ${m.labels.length} classes (${m.labels.join(', ')}) · input T=${frames} × ${size}×${size}×${channels}${m.normalization.input === 'flow' ? ' frames → TV-L1 flow (u, v, strain)' : ''} · ` +
      `temporal ${m.temporal} · ${(next.params / 1e6).toFixed(2)} M weights · first run ${warm.ms.toFixed(0)} ms`;
    ui.modelInfo.dataset.state = 'ok';
    if (m.preprocessing?.align === 'face') ui.modelInfo.textContent += ' · trained on face-aligned clips: give it aligned face crops (the page detects no faces)';
    setStatus('');
    // a spotting run goes on; the model labels the micro intervals of the next one
    if (source && !spotting(source)) await runSource(source);
  } catch (e) {
    if (quiet) {
      ui.modelInfo.textContent = `No model at ${ui.modelUrl.value}: load a checkpoint folder (URL, folder picker or drop).`;
      ui.modelInfo.dataset.state = 'none';
      return;
    }
    ui.modelInfo.textContent = model ? `Still using ${model.source}.` : 'No model loaded.';
    ui.modelInfo.dataset.state = model ? 'ok' : 'none';
    report(e);
  }
}

// ---------- sources ----------

function stopSources(): void {
  generation++;
  // a webcam spotting run ends as with Stop webcam: no more frames, the queue is still analysed
  const finish = finishSpot;
  finishSpot = null;
  finish?.();
  stopWebcam?.();
  stopWebcam = null;
  ui.webcam.classList.remove('on');
  ui.webcam.textContent = 'Webcam';
  ui.guide.hidden = true;
  ui.player.pause();
  ui.player.srcObject = null;
  if (videoUrl) {
    URL.revokeObjectURL(videoUrl);
    videoUrl = null;
  }
  ui.player.removeAttribute('src');
  ui.media.hidden = true;
}

function spotting(s: Source): boolean {
  return ui.mode.value === 'spot' && s.kind !== 'frames';
}

async function setSource(next: Source): Promise<void> {
  stopSources();
  spotRun?.abort();
  source = next;
  clearResult();
  if (spotting(next)) {
    await runSource(next);
    return;
  }
  if (!model) {
    setStatus('Load a model first; the clip will run as soon as one is loaded.');
    return;
  }
  await runSource(next);
}

async function runSource(s: Source): Promise<void> {
  try {
    if (spotting(s)) await runSpot(s as Exclude<Source, { kind: 'frames' }>);
    else if (s.kind === 'frames') await runFrames(s.files);
    else if (s.kind === 'video') await runVideo(s.file);
    else await runWebcam();
  } catch (e) {
    report(e);
  }
}

function sortedImages(files: readonly File[]): File[] {
  const name = (f: File): string => f.webkitRelativePath || f.name;
  return files.filter((f) => f.type.startsWith('image/') || /\.(png|jpe?g|bmp|gif|webp|tiff?)$/i.test(f.name)).sort((a, b) => naturalCompare(name(a), name(b)));
}

async function runFrames(files: File[]): Promise<void> {
  if (!model) return;
  const gen = generation;
  const { size, frames: T } = model.meta.net;
  const channels = model.meta.frameChannels;
  const images = sortedImages(files);
  if (images.length === 0) throw new Error(`none of the ${files.length} chosen files is an image`);
  if (images.length < MIN_CLIP_FRAMES) throw new Error(`${images[0]!.name}: one frame is not a clip; give at least ${MIN_CLIP_FRAMES} (onset … apex)`);
  setStatus(`Reading ${images.length} frames…`);
  const t0 = performance.now();
  // only the frames the resampling reads, as the command line does
  const needed = planIndices(resamplePlan(images.length, T));
  const bytes = new Map<number, Uint8Array>();
  for (const i of needed) {
    const img = await decodeImage(images[i]!);
    bytes.set(i, frameBytes(img, size, channels));
    if (gen !== generation) return;
  }
  const clip = resampleRun(images.length, (i) => bytes.get(i)!, T);
  const prepMs = performance.now() - t0;
  const pred = await predictClip(model, clip);
  if (gen !== generation) return;
  showPrediction(pred, clip, `${images.length} frames: ${images[0]!.name} → ${images[images.length - 1]!.name}`);
  showTiming([pred.ms], [prepMs], pred.flowMs === undefined ? [] : [pred.flowMs]);
  setStatus('');
}

interface WindowResult {
  time: number;
  pred: Prediction;
  clip?: Uint8Array;
}

function newTimeline(results: WindowResult[], onPick: (r: WindowResult, i: number) => void): TimelineChart {
  const chart = new TimelineChart(ui.timelineBox, model!.meta.labels);
  ui.timelineBox.hidden = false;
  chart.onSelect = (i) => {
    const r = results[i];
    if (r) onPick(r, i);
  };
  return chart;
}

/** Shows `file` in the player, paused at its start. */
async function openVideo(file: File): Promise<HTMLVideoElement> {
  videoUrl = URL.createObjectURL(file);
  const v = ui.player;
  v.srcObject = null;
  v.src = videoUrl;
  v.controls = false;
  ui.media.hidden = false;
  await new Promise<void>((resolve, reject) => {
    v.onloadeddata = () => resolve();
    v.onerror = () => reject(new Error(`${file.name}: this browser cannot play it (${v.error?.message || 'unsupported format'})`));
  });
  v.onloadeddata = null;
  v.onerror = null;
  if (!Number.isFinite(v.duration) || v.duration <= 0) throw new Error(`${file.name}: the video reports no duration`);
  return v;
}

/** Starts the camera in the player with the centre-square guide; false when a newer source took over meanwhile. */
async function openWebcam(gen: number): Promise<boolean> {
  const v = ui.player;
  v.removeAttribute('src');
  ui.media.hidden = false;
  stopWebcam = await startWebcam(v);
  if (gen !== generation) {
    stopWebcam();
    stopWebcam = null;
    return false;
  }
  ui.webcam.classList.add('on');
  ui.webcam.textContent = 'Stop webcam';
  const sq = centreSquare(v.videoWidth, v.videoHeight);
  Object.assign(ui.guide.style, {
    left: `${(100 * sq.x) / v.videoWidth}%`,
    top: `${(100 * sq.y) / v.videoHeight}%`,
    width: `${(100 * sq.width) / v.videoWidth}%`,
    height: `${(100 * sq.height) / v.videoHeight}%`,
  });
  ui.guide.hidden = false;
  return true;
}

async function runVideo(file: File): Promise<void> {
  if (!model) return;
  const gen = generation;
  const { size, frames: T } = model.meta.net;
  const channels = model.meta.frameChannels;
  const fps = intSetting(ui.fps, 'sample rate');
  const L = intSetting(ui.window, 'window');
  const step = intSetting(ui.step, 'step');
  const v = await openVideo(file);
  const n = Math.min(MAX_VIDEO_FRAMES, Math.max(1, Math.floor(v.duration * fps)));
  const span = Math.min(L, n);
  const frames: Uint8Array[] = [];
  const results: WindowResult[] = [];
  const inferMs: number[] = [];
  const prepMs: number[] = [];
  const flowMs: number[] = [];
  const clipAt = (end: number): Uint8Array => resampleClip(frames.slice(end - span + 1, end + 1), T);
  const pick = (r: WindowResult): void => {
    showPrediction(r.pred, r.clip ?? clipAt(Math.round(r.time * fps)), `window ending at ${r.time.toFixed(2)} s`);
    void seek(v, r.time + 0.5 / fps);
  };
  const chart = newTimeline(results, pick);
  for (let k = 0; k < n; k++) {
    await seek(v, (k + 0.5) / fps);
    if (gen !== generation) return;
    const t0 = performance.now();
    frames.push(frameBytes(videoPixels(v), size, channels));
    const last = k === n - 1;
    if (k + 1 >= span && ((k + 1 - span) % step === 0 || (last && results.length === 0))) {
      const clip = clipAt(k);
      prepMs.push(performance.now() - t0);
      const pred = await predictClip(model, clip);
      if (gen !== generation) return;
      inferMs.push(pred.ms);
      if (pred.flowMs !== undefined) flowMs.push(pred.flowMs);
      const r = { time: k / fps, pred };
      results.push(r);
      chart.push({ time: r.time, probs: pred.probs });
      chart.select(results.length - 1);
      showPrediction(pred, clip, `window ending at ${r.time.toFixed(2)} s`);
    }
    setStatus(`Analysing ${file.name}: frame ${k + 1} of ${n}${n === MAX_VIDEO_FRAMES ? ` (the first ${MAX_VIDEO_FRAMES} only)` : ''}`);
  }
  showTiming(inferMs, prepMs, flowMs);
  setStatus(`${file.name}: ${results.length} windows of ${span} frames at ${fps} fps; click the chart to inspect one.`);
  v.controls = true;
}

async function runWebcam(): Promise<void> {
  if (!model) return;
  const gen = generation;
  const { size, frames: T } = model.meta.net;
  const channels = model.meta.frameChannels;
  const fps = intSetting(ui.fps, 'sample rate');
  const L = intSetting(ui.window, 'window');
  const step = intSetting(ui.step, 'step');
  const v = ui.player;
  if (!(await openWebcam(gen))) return;
  const ring: Uint8Array[] = [];
  const results: WindowResult[] = [];
  const inferMs: number[] = [];
  const prepMs: number[] = [];
  const flowMs: number[] = [];
  let live = true;
  const chart = newTimeline(results, (r, i) => {
    live = i === results.length - 1;
    showPrediction(r.pred, r.clip, live ? 'live' : `${r.time.toFixed(2)} s (click the newest point to follow live)`);
  });
  chart.span = WEBCAM_SPAN_S;
  const start = performance.now();
  let captured = 0;
  let busy = false;
  let nextAt = 0;
  const tick = async (): Promise<void> => {
    if (gen !== generation || !model) return;
    const now = performance.now();
    if (now >= nextAt && v.videoWidth > 0) {
      nextAt = Math.max(nextAt + 1000 / fps, now);
      const t0 = performance.now();
      ring.push(frameBytes(videoPixels(v), size, channels, centreSquare(v.videoWidth, v.videoHeight)));
      if (ring.length > L) ring.shift();
      captured++;
      if (ring.length === L && captured % step === 0 && !busy) {
        busy = true;
        const clip = resampleClip(ring, T);
        prepMs.push(performance.now() - t0);
        const pred = await predictClip(model, clip);
        busy = false;
        if (gen !== generation) return;
        inferMs.push(pred.ms);
        if (pred.flowMs !== undefined) flowMs.push(pred.flowMs);
        const r: WindowResult = { time: (now - start) / 1000, pred, clip };
        results.push(r);
        if (results.length > WEBCAM_KEEP_CLIPS) delete results[results.length - 1 - WEBCAM_KEEP_CLIPS]!.clip;
        chart.push({ time: r.time, probs: pred.probs });
        if (results.length > WEBCAM_HISTORY) {
          results.splice(0, results.length - WEBCAM_HISTORY);
          chart.shift(chart.length - WEBCAM_HISTORY);
        }
        if (live || chart.length === 1) {
          chart.select(results.length - 1);
          showPrediction(pred, clip, `live, ${r.time.toFixed(1)} s`);
        }
        if (inferMs.length % 10 === 0) showTiming(inferMs.slice(-50), prepMs.slice(-50), flowMs.slice(-50));
      }
    }
    requestAnimationFrame(() => void tick().catch(report));
  };
  setStatus(`Webcam on: a window of ${L} frames at ${fps} fps, a prediction every ${step === 1 ? 'frame' : `${step} frames`}.`);
  await tick();
}

// ---------- spotting ----------

/**
 * Spots a video (every frame at the sample rate, by seeking, whole frames) or the webcam (the
 * centre square, sampled at the sample rate as frames arrive) with `mimanet spot`'s spotter in a
 * worker; the micro intervals are recognised by the loaded model, if any.
 */
async function runSpot(s: { kind: 'video'; file: File } | { kind: 'webcam' }): Promise<void> {
  const gen = generation;
  const fps = intSetting(ui.fps, 'sample rate');
  const seconds = Number(ui.spotSeconds.value);
  if (!(Number.isFinite(seconds) && seconds >= 0 && seconds <= Number(ui.spotSeconds.max))) throw new Error(`spot length must be 0 to ${ui.spotSeconds.max} seconds, got "${ui.spotSeconds.value}"`);
  const limit = Math.min(MAX_SPOT_FRAMES, seconds > 0 ? Math.max(1, Math.round(seconds * fps)) : Infinity);
  const name = s.kind === 'video' ? s.file.name.replace(/\.[^.]*$/, '') : 'webcam';
  const modelAtStart = model;
  const run = new SpotRun(ui.spot, fps, name, s.kind === 'video' ? s.file.name : 'webcam', model, report);
  spotRun = run;
  run.onPick = (iv, l, clip) => {
    if (!model || model !== modelAtStart) return;
    const best = l.probs.indexOf(Math.max(...l.probs));
    showPrediction({ probs: l.probs, best }, clip, `micro interval, frames ${iv.onset}–${iv.apex} (onset → apex)`);
  };
  const done = async (): Promise<void> => {
    setStatus(`${name}: ${run.captured} frames taken; analysing the rest of the queue…`);
    const t = await run.close();
    if (spotRun !== run || run.aborted) return;
    const micro = t.intervals.filter((i) => i.kind === 'micro').length;
    const rate = run.processingFps;
    setStatus(`${name}: ${t.frames} frames at ${fps} fps, ${t.intervals.length} interval(s), ${micro} micro${rate ? `; the spotter ran at ${rate.toFixed(1)} frames a second` : ''}.`);
  };
  if (s.kind === 'video') {
    const v = await openVideo(s.file);
    const n = Math.min(limit, Math.max(1, Math.floor(v.duration * fps)));
    for (let k = 0; k < n; k++) {
      await seekFrame(v, (k + 0.5) / fps);
      if (!run.open) return;
      run.add(videoPixels(v));
      await run.behindAtMost(VIDEO_QUEUE_FRAMES);
      setStatus(`Spotting in ${s.file.name}: frame ${k + 1} of ${n}`);
    }
    v.controls = true;
    await done();
    return;
  }
  const v = ui.player;
  if (!(await openWebcam(gen))) return run.abort();
  const period = 1000 / fps;
  let last = -Infinity;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (finishSpot === finish) stopSources();
    void done().catch(report);
  };
  finishSpot = finish;
  const schedule = (): void => {
    if ('requestVideoFrameCallback' in v) v.requestVideoFrameCallback((now) => onFrame(now));
    else requestAnimationFrame((now) => onFrame(now));
  };
  // a frame is taken when at least 3/4 of a sample period has passed: at the camera's own rate, every new frame
  const onFrame = (now: number): void => {
    if (finished || !run.open) return;
    if (now - last >= 0.75 * period && v.videoWidth > 0) {
      last = now;
      run.add(videoPixels(v), centreSquare(v.videoWidth, v.videoHeight));
      if (run.captured >= limit) return finish();
    }
    schedule();
  };
  setStatus(`Spotting on the webcam at ${fps} fps${Number.isFinite(limit) ? ` for ${limit} frames` : ' until stopped'}.`);
  schedule();
}

// ---------- file picking and dropping ----------

async function readEntry(entry: FileSystemEntry, depth: number): Promise<File[]> {
  if (entry.isFile) {
    return [await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej))];
  }
  if (!entry.isDirectory || depth > 3) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: File[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) out.push(...(await readEntry(e, depth + 1)));
  }
  return out;
}

async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...dt.files];
  const out: File[] = [];
  for (const e of entries) out.push(...(await readEntry(e, 0)));
  return out;
}

async function handleFiles(files: File[]): Promise<void> {
  if (files.length === 0) return;
  if (files.some((f) => f.name === 'model.json' || f.name === 'mimanet.json')) {
    await useModel(() => loadFromFiles(files));
    return;
  }
  const video = files.find((f) => f.type.startsWith('video/') || /\.(mp4|webm|mov|avi|mkv|ogv)$/i.test(f.name));
  if (video) await setSource({ kind: 'video', file: video });
  else await setSource({ kind: 'frames', files });
}

function wire(): void {
  ui.urlForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const url = ui.modelUrl.value.trim();
    void useModel(() => loadFromUrl(url));
  });
  const pickModel = (input: HTMLInputElement): void => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) void useModel(() => loadFromFiles(files));
  };
  ui.modelDir.addEventListener('change', () => pickModel(ui.modelDir));
  ui.modelFiles.addEventListener('change', () => pickModel(ui.modelFiles));
  ui.frameFiles.addEventListener('change', () => {
    const files = [...(ui.frameFiles.files ?? [])];
    ui.frameFiles.value = '';
    if (files.length) void setSource({ kind: 'frames', files });
  });
  ui.videoFile.addEventListener('change', () => {
    const file = ui.videoFile.files?.[0];
    ui.videoFile.value = '';
    if (file) void setSource({ kind: 'video', file });
  });
  ui.webcam.addEventListener('click', () => {
    if (finishSpot) {
      source = null;
      finishSpot();
    } else if (stopWebcam) {
      stopSources();
      source = null;
      setStatus('Webcam off.');
    } else void setSource({ kind: 'webcam' });
  });
  ui.backendSelect.addEventListener('change', () => {
    void (async () => {
      try {
        // the model is loaded again on the new backend: a spotting run stops where it is
        spotRun?.abort();
        stopSources();
        await showBackend(await chooseBackend(ui.backendSelect.value || undefined));
        const url = new URL(location.href);
        if (ui.backendSelect.value) url.searchParams.set('backend', ui.backendSelect.value);
        else url.searchParams.delete('backend');
        history.replaceState(null, '', url);
        // weights live on the old backend: load them again
        if (reloadModel) await useModel(reloadModel);
      } catch (e) {
        report(e);
      }
    })();
  });
  let depth = 0;
  window.addEventListener('dragenter', (ev) => {
    ev.preventDefault();
    depth++;
    ui.dropOverlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) ui.dropOverlay.hidden = true;
  });
  window.addEventListener('dragover', (ev) => ev.preventDefault());
  window.addEventListener('drop', (ev) => {
    ev.preventDefault();
    depth = 0;
    ui.dropOverlay.hidden = true;
    if (ev.dataTransfer) void droppedFiles(ev.dataTransfer).then(handleFiles).catch(report);
  });
}

async function showBackend(name: string): Promise<void> {
  ui.backend.textContent = name;
  ui.backend.dataset.backend = name;
  ui.backend.title = await backendDetail();
  ui.backendDetail.textContent = `runs on ${ui.backend.title}`;
}

async function start(): Promise<void> {
  wire();
  const params = new URLSearchParams(location.search);
  const wanted = params.get('backend') ?? undefined;
  if (wanted) ui.backendSelect.value = wanted;
  const name = await chooseBackend(wanted);
  await showBackend(name);
  if (wanted && name !== wanted) setStatus(`The ${wanted} backend would not start here; using ${name}.`);
  const modelParam = params.get('model');
  if (modelParam) ui.modelUrl.value = modelParam;
  const url = ui.modelUrl.value.trim();
  await useModel(() => loadFromUrl(url), true);
}

/** The frames of the latest spotting run, for checking the page against `mimanet spot` on the same frames. */
Object.assign(window, {
  mimanetSpot: {
    /** Grey frames as the spotter got them (64 x 64 bytes each), base64. */
    frames: (): string[] => (spotRun?.grey ?? []).map((f) => btoa(String.fromCharCode(...f))),
    /** What the JSON download holds. */
    timeline: async () => (spotRun ? (await spotRun.files()).json : null),
  },
});

start().catch(report);
