import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { exportClips } from '../src/cli/synthetic.js';
import { generateSynthetic } from '../src/data/synthetic/index.js';
import { TwoStreamNet } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { predictClips } from '../src/train/pretrain.js';
import { Predictor } from '../src/predict/index.js';
import { useCpu, tempDir } from './helpers.js';

beforeAll(useCpu);

describe('exported synthetic clips', () => {
  it('round-trip losslessly as PNG frames, and predict gives what the net gives on the clip in memory', async () => {
    const data = generateSynthetic({ size: 32, frames: 4, channels: 1, micro: { sources: 1, subjectsPerSource: 2, clipsPerSubject: 3 }, macro: { subjects: 2, clipsPerSubject: 7 } });
    const out = tempDir('export');
    const dirs = await exportClips({ micro: data.micro, macro: data.macro }, { out, count: 2, sets: ['micro'] });
    expect(dirs).toHaveLength(2);
    // one clip of each subject first: the second folder is the second subject's first clip
    const clip = data.micro.clips[3];
    expect(clip.subject).not.toBe(data.micro.clips[0].subject);
    expect(dirs[1]).toBe(join(out, 'micro', clip.id.replace('/', '__')));
    const frames = readdirSync(dirs[1]).sort();
    expect(frames).toEqual(['00.png', '01.png', '02.png', '03.png', 'clip.json']);
    expect(JSON.parse(readFileSync(join(dirs[1], 'clip.json'), 'utf8'))).toEqual({ clip: clip.id.replace('/', '__'), onset: 0, apex: 3, label: data.micro.labels[clip.label], subject: clip.subject, source: clip.source });
    expect((await sharp(join(dirs[1], '03.png')).metadata()).channels).toBe(1); // a grey PNG
    const px = await sharp(join(dirs[1], '03.png')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(Array.from(px.data)).toEqual(Array.from(clip.frames.subarray(3 * 32 * 32, 4 * 32 * 32)));
    const csv = readFileSync(join(out, 'micro', 'labels.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('clip,subject,source,label');
    expect(csv[2]).toBe(`${clip.id.replace('/', '__')},${clip.subject},${clip.source},${data.micro.labels[clip.label]}`);

    const net = withInitSeed(5, () => new TwoStreamNet({ classes: 3, size: 32, channels: 1, frames: 4, width: 2, sc: 2, K: 2 }, 'MiNet'));
    const ckpt = join(out, 'model');
    await saveCheckpoint(net, ckpt, { labels: data.micro.labels, temporal: 'intervals', normalization: { mean: [0.5], std: [0.5] }, provenance: { preprocessing: { kind: 'aligned' } } });
    const expected = (await predictClips(net, data.micro, [3], 'intervals'))[0];
    const p = await Predictor.load(ckpt);
    // all four frames, onset first and apex last, as the clip was made: read from clip.json, no flags needed
    const r = await p.predict(dirs[1]);
    expect([r.input.onset, r.input.apex]).toEqual([0, 3]);
    r.probs.forEach((v, i) => expect(v).toBeCloseTo(expected.probs[i], 5));
    expect(r.label).toBe(data.micro.labels[expected.pred]);
    p.dispose();
    net.dispose();
  });
});
