/** One error style for the whole command line: usage errors read like every other error. */
import { describe, it, expect } from 'vitest';
import { runCli } from './helpers.js';

describe('command-line errors', () => {
  it('usage errors print as `mimanet: error: ...` with one line pointing to --help, not the whole help', async () => {
    const cases: Array<[string[], string]> = [
      [['predict', 'clip'], "mimanet: error: required option '--model <dir>' not specified\n(mimanet predict --help lists the options)\n"],
      [['predcit'], "mimanet: error: unknown command 'predcit'\n(Did you mean predict?)\n(mimanet --help lists the commands)\n"],
      [['run', '--seeds'], "mimanet: error: option '--seeds <n>' argument missing\n(mimanet run --help lists the options)\n"],
      [['data', 'synthetic', '--out', 'x', '--cuont', '3'], "mimanet: error: unknown option '--cuont'\n(Did you mean --count?)\n(mimanet data synthetic --help lists the options)\n"],
    ];
    for (const [args, err] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toBe(err);
      expect(r.out).toBe('');
    }
  });

  it('--help and --version still print and exit 0', async () => {
    const help = await runCli(['predict', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: mimanet predict \[options\]/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
