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
}

export interface Progress {
  /** Advances by `n` steps (default 1); `info` entries (e.g. `{ loss: 0.42 }`) are shown after the bar and persist until overwritten. */
  tick(n?: number, info?: Record<string, string | number>): void;
  /** Draws the final state and releases the terminal. Call it in a `finally`: a running bar keeps a redraw timer alive. Idempotent. */
  stop(): void;
}

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
  if (!enabled) return NOOP;
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
