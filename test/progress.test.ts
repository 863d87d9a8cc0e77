import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../src/util/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  Object.assign(w, { isTTY, columns: 120 });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

describe('createProgress', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('draws nothing when the stream is not a terminal', () => {
    const f = fakeStream(false);
    const p = createProgress({ label: 'epochs', total: 3, stream: f.stream });
    p.tick(1, { loss: 0.5 });
    p.tick();
    p.stop();
    expect(f.text()).toBe('');
  });

  it('writes a plain line at most every lineEveryMs where no bar is drawn', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(0);
      const f = fakeStream(false);
      const p = createProgress({ label: 'training', total: 10, stream: f.stream, lineEveryMs: 30_000 });
      p.tick(1, { L: 0.5 });
      vi.setSystemTime(29_000);
      p.tick(1);
      expect(f.text()).toBe('');
      vi.setSystemTime(30_000);
      p.tick(3);
      vi.setSystemTime(31_000);
      p.tick(1);
      expect(f.text()).toBe('training: 5/10 (50%), 30 s elapsed, ETA 30 s, L=0.5000\n');
      p.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('draws nothing on a terminal when CI is set', () => {
    vi.stubEnv('CI', 'true');
    const f = fakeStream(true);
    const p = createProgress({ label: 'epochs', total: 3, stream: f.stream });
    p.tick();
    p.stop();
    expect(f.text()).toBe('');
  });

  it('draws on a terminal by default', () => {
    vi.stubEnv('CI', undefined);
    const f = fakeStream(true);
    const p = createProgress({ label: 'epochs', total: 2, stream: f.stream });
    p.tick(2);
    p.stop();
    expect(f.text()).toContain('epochs');
    expect(f.text()).toContain('2/2');
  });

  it('draws the label, counts and payload when enabled', () => {
    const f = fakeStream(false);
    const p = createProgress({ label: 'fold 3/16', total: 4, stream: f.stream, enabled: true });
    p.tick(2, { loss: 0.421234, epoch: 7 });
    p.stop();
    p.stop();
    const out = f.text();
    expect(out).toContain('fold 3/16');
    expect(out).toContain('2/4');
    expect(out).toContain('loss=0.4212 epoch=7');
    expect(out).toContain('ETA');
  });
});
