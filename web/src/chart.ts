/** Class probability bars and the probability-over-time chart, in plain SVG/DOM. */

/** Distinguishable on white and for common colour-vision deficiencies (Okabe-Ito, then greys). */
export const CLASS_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#777777', '#aaaaaa'];

export function classColour(i: number): string {
  return CLASS_COLOURS[i % CLASS_COLOURS.length]!;
}

/** Percent with one decimal, as the bars show it. */
export function formatPercent(p: number): string {
  return `${(100 * p).toFixed(1)}%`;
}

/** One row per class: swatch, name, bar, percentage; the best class is marked. */
export function renderBars(host: HTMLElement, labels: readonly string[], probs: readonly number[], best: number): void {
  host.replaceChildren(
    ...labels.map((label, i) => {
      const row = document.createElement('div');
      row.className = `bar-row${i === best ? ' best' : ''}`;
      row.dataset.label = label;
      row.dataset.prob = String(probs[i]);
      const name = document.createElement('span');
      name.className = 'bar-name';
      name.textContent = label;
      const track = document.createElement('span');
      track.className = 'bar-track';
      const fill = document.createElement('span');
      fill.className = 'bar-fill';
      fill.style.width = `${Math.max(0, Math.min(1, probs[i]!)) * 100}%`;
      fill.style.background = classColour(i);
      track.append(fill);
      const value = document.createElement('span');
      value.className = 'bar-value';
      value.textContent = formatPercent(probs[i]!);
      row.append(name, track, value);
      return row;
    }),
  );
}

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export interface TimelinePoint {
  /** Seconds from the start of the video or of the webcam session (the window's apex). */
  time: number;
  probs: number[];
}

/**
 * Probability of every class against time, one line each, with a cursor on
 * the selected window. Clicking picks the nearest window.
 */
export class TimelineChart {
  private points: TimelinePoint[] = [];
  private selected = -1;
  private readonly svg: SVGSVGElement;
  private readonly width = 640;
  private readonly height = 170;
  private readonly pad = { left: 34, right: 8, top: 8, bottom: 22 };
  /** Seconds shown at most (the webcam scrolls); Infinity shows everything. */
  span = Infinity;
  onSelect: (index: number) => void = () => {};

  constructor(
    host: HTMLElement,
    private readonly labels: readonly string[],
  ) {
    this.svg = el('svg', { viewBox: `0 0 ${this.width} ${this.height}`, class: 'timeline', role: 'img', 'aria-label': 'class probabilities over time' });
    this.svg.addEventListener('click', (ev) => this.pick(ev));
    host.replaceChildren(this.svg);
    this.draw();
  }

  get length(): number {
    return this.points.length;
  }

  push(p: TimelinePoint): void {
    this.points.push(p);
    this.draw();
  }

  /** Drops the oldest points (webcam history cap). */
  shift(n: number): void {
    this.points.splice(0, n);
    this.selected = Math.max(-1, this.selected - n);
  }

  select(i: number): void {
    this.selected = i;
    this.draw();
  }

  private range(): [number, number] {
    if (this.points.length === 0) return [0, 1];
    const last = this.points[this.points.length - 1]!.time;
    const first = Number.isFinite(this.span) ? Math.max(this.points[0]!.time, last - this.span) : this.points[0]!.time;
    return [first, Math.max(last, first + 1e-3)];
  }

  private x(t: number, [t0, t1]: [number, number]): number {
    return this.pad.left + ((t - t0) / (t1 - t0)) * (this.width - this.pad.left - this.pad.right);
  }

  private y(p: number): number {
    return this.pad.top + (1 - p) * (this.height - this.pad.top - this.pad.bottom);
  }

  private pick(ev: MouseEvent): void {
    if (this.points.length === 0) return;
    const box = this.svg.getBoundingClientRect();
    const sx = ((ev.clientX - box.left) / box.width) * this.width;
    const r = this.range();
    let best = 0;
    let bestD = Infinity;
    this.points.forEach((p, i) => {
      const d = Math.abs(this.x(p.time, r) - sx);
      if (p.time >= r[0] && d < bestD) {
        bestD = d;
        best = i;
      }
    });
    this.select(best);
    this.onSelect(best);
  }

  private draw(): void {
    const r = this.range();
    const kids: SVGElement[] = [];
    for (const p of [0, 0.5, 1]) {
      kids.push(el('line', { x1: this.pad.left, x2: this.width - this.pad.right, y1: this.y(p), y2: this.y(p), class: 'grid' }));
      const t = el('text', { x: this.pad.left - 4, y: this.y(p) + 3, class: 'axis', 'text-anchor': 'end' });
      t.textContent = `${p * 100}%`;
      kids.push(t);
    }
    for (const [t, anchor] of [
      [r[0], 'start'],
      [r[1], 'end'],
    ] as const) {
      const label = el('text', { x: this.x(t, r), y: this.height - 6, class: 'axis', 'text-anchor': anchor });
      label.textContent = this.points.length ? `${t.toFixed(2)} s` : '';
      kids.push(label);
    }
    const visible = this.points.filter((p) => p.time >= r[0]);
    this.labels.forEach((_, c) => {
      if (visible.length === 0) return;
      const d = visible.map((p, i) => `${i ? 'L' : 'M'}${this.x(p.time, r).toFixed(1)},${this.y(p.probs[c]!).toFixed(1)}`).join('');
      kids.push(el('path', { d, class: 'series', stroke: classColour(c) }));
      if (visible.length === 1) kids.push(el('circle', { cx: this.x(visible[0]!.time, r), cy: this.y(visible[0]!.probs[c]!), r: 2.5, fill: classColour(c) }));
    });
    const sel = this.points[this.selected];
    if (sel && sel.time >= r[0]) {
      const x = this.x(sel.time, r);
      kids.push(el('line', { x1: x, x2: x, y1: this.pad.top, y2: this.height - this.pad.bottom, class: 'cursor' }));
    }
    this.svg.replaceChildren(...kids);
    this.svg.dataset.points = String(this.points.length);
    this.svg.dataset.selected = String(this.selected);
  }
}
