/**
 * Terminal progress bar for long loops (epochs, folds), drawn only when the
 * output is an interactive terminal so logs and CI output stay clean.
 */
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Text in front of the bar, e.g. `fold 3/16`. */
  label: string;
  /** Number of steps to completion. */
  total: number;
  /** Where to draw. Default: `process.stderr`, so stdout stays free for results. */
  stream?: NodeJS.WriteStream;
  /**
   * Draw at all. Default: `stream.isTTY` and the `CI` environment variable
   * unset. When forced on for a non-terminal stream, the bar is written as
   * plain lines every few seconds instead of being redrawn in place.
   */
  enabled?: boolean;
  /**
   * Where no bar is drawn (not a terminal, or CI), write one plain line of
   * progress at most this often, so a long run in a log is not silent. Default: none.
   */
  lineEveryMs?: number;
}

export interface Progress {
  /** Advances by `n` steps (default 1); `info` entries (e.g. `{ loss: 0.42 }`) are shown after the bar and persist until overwritten. */
  tick(n?: number, info?: Record<string, string | number>): void;
  /** Draws the final state and releases the terminal. Call it in a `finally`: a running bar keeps a redraw timer alive. Idempotent. */
  stop(): void;
}

/** How often a command writes a progress line where no bar is drawn (a log file, CI). */
export const PROGRESS_LINE_MS = 30_000;

/** Significant digits for numeric payload values. */
export const DEFAULT_INFO_DIGITS = 4;

function formatInfo(info: Record<string, string | number>): string {
  return Object.entries(info)
    .map(([k, v]) => {
      const text = typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(DEFAULT_INFO_DIGITS) : String(v);
      return `${k}=${text}`;
    })
    .join(' ');
}

const NOOP: Progress = { tick() {}, stop() {} };

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? (stream.isTTY === true && !process.env.CI);
  if (!enabled) return opts.lineEveryMs !== undefined && opts.enabled === undefined ? lineProgress(opts, stream, opts.lineEveryMs) : NOOP;
  if (!Number.isFinite(opts.total) || opts.total < 0) {
    throw new Error(`createProgress(${opts.label}): total must be a non-negative number, got ${JSON.stringify(opts.total)}`);
  }

  const bar = new cliProgress.SingleBar({
    format: '{label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}',
    stream,
    barsize: 30,
    hideCursor: false,
    stopOnComplete: true,
    // The library's SIGINT/SIGTERM handlers would replace Node's default and keep Ctrl-C from exiting.
    gracefulExit: false,
    noTTYOutput: stream.isTTY !== true,
    emptyOnZero: true,
  });
  const info: Record<string, string | number> = {};
  let value = 0;
  let stopped = false;
  bar.start(opts.total, 0, { label: opts.label, info: '' });
  return {
    tick(n = 1, extra) {
      if (stopped) return;
      if (extra) Object.assign(info, extra);
      value += n;
      // Reaching `total` stops the bar (stopOnComplete); later updates are ignored by the library.
      bar.update(value, { info: formatInfo(info) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/** Progress as a plain line every `everyMs` (checked on each tick: no timer keeps the process alive). */
function lineProgress(opts: ProgressOptions, stream: NodeJS.WriteStream, everyMs: number): Progress {
  const t0 = Date.now();
  let last = t0;
  let value = 0;
  const info: Record<string, string | number> = {};
  return {
    tick(n = 1, extra) {
      value += n;
      if (extra) Object.assign(info, extra);
      const now = Date.now();
      if (now - last < everyMs) return;
      last = now;
      const share = opts.total > 0 ? value / opts.total : 1;
      const eta = share > 0 ? Math.round(((now - t0) / share - (now - t0)) / 1000) : NaN;
      const extraText = formatInfo(info);
      stream.write(`${opts.label}: ${value}/${opts.total} (${Math.round(share * 100)}%), ${Math.round((now - t0) / 1000)} s elapsed, ETA ${Number.isFinite(eta) ? `${eta} s` : 'unknown'}${extraText ? `, ${extraText}` : ''}\n`);
    },
    stop() {},
  };
}
