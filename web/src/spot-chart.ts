/** The spotter's motion score over time, the threshold and the spotted intervals, in plain SVG. */
import type { SpottedInterval } from '../../src/browser.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Micro and macro shading (Okabe-Ito vermillion and blue, as the class colours). */
export const KIND_COLOURS = { micro: '#D55E00', macro: '#0072B2' } as const;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export class SpotChart {
  private readonly svg: SVGSVGElement;
  private readonly width = 640;
  private readonly height = 170;
  private readonly pad = { left: 34, right: 8, top: 8, bottom: 22 };

  constructor(host: HTMLElement) {
    this.svg = el('svg', { viewBox: `0 0 ${this.width} ${this.height}`, class: 'timeline spot-chart', role: 'img', 'aria-label': 'motion score over time with the spotted intervals' });
    host.replaceChildren(this.svg);
    this.draw([], [], 30);
  }

  /** Redraws: `score` per frame (1 = the threshold), the intervals shaded, time in seconds at `fps`. */
  draw(score: readonly number[], intervals: readonly SpottedInterval[], fps: number): void {
    const n = score.length;
    const t1 = Math.max(n / fps, 1 / fps);
    const top = Math.max(2, ...score);
    const x = (frame: number): number => this.pad.left + (frame / fps / t1) * (this.width - this.pad.left - this.pad.right);
    const y = (s: number): number => this.pad.top + (1 - s / top) * (this.height - this.pad.top - this.pad.bottom);
    const kids: SVGElement[] = [];
    for (const iv of intervals) {
      kids.push(el('rect', { x: x(iv.onset), width: Math.max(1, x(iv.offset + 1) - x(iv.onset)), y: this.pad.top, height: this.height - this.pad.top - this.pad.bottom, fill: KIND_COLOURS[iv.kind], opacity: 0.22, class: `interval ${iv.kind}` }));
    }
    for (const s of [0, 1]) {
      kids.push(el('line', { x1: this.pad.left, x2: this.width - this.pad.right, y1: y(s), y2: y(s), class: s === 1 ? 'threshold' : 'grid' }));
      const label = el('text', { x: this.pad.left - 4, y: y(s) + 3, class: 'axis', 'text-anchor': 'end' });
      label.textContent = s === 1 ? 'T' : '0';
      kids.push(label);
    }
    for (const [t, anchor] of [
      [0, 'start'],
      [t1, 'end'],
    ] as const) {
      const label = el('text', { x: this.pad.left + (t / t1) * (this.width - this.pad.left - this.pad.right), y: this.height - 6, class: 'axis', 'text-anchor': anchor });
      label.textContent = n ? `${t.toFixed(1)} s` : '';
      kids.push(label);
    }
    if (n > 0) {
      const d = score.map((s, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(s).toFixed(1)}`).join('');
      kids.push(el('path', { d, class: 'series', stroke: '#333' }));
    }
    this.svg.replaceChildren(...kids);
    this.svg.dataset.frames = String(n);
  }
}
