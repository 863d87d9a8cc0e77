/** docs/failure-modes.md names, for each bad input, the test that checks it: each named test must exist. */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

describe('docs/failure-modes.md', () => {
  it('names only tests that exist, one per entry', () => {
    const rows = readFileSync(join(root, 'docs', 'failure-modes.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| input') && !l.startsWith('|---'));
    expect(rows.length).toBeGreaterThanOrEqual(25);
    for (const row of rows) {
      const m = /`(test\/[^`]+\.test\.ts)`: "([^"]+)" \|$/.exec(row);
      expect(m, `entry without a test: ${row}`).not.toBeNull();
      const [, file, title] = m!;
      expect(existsSync(join(root, file)), `${file} (named in: ${row.slice(0, 60)})`).toBe(true);
      const source = readFileSync(join(root, file), 'utf8');
      // a test (`it(`, `it.skipIf(...)(`) or a group of them (`describe(`) of that title
      const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const named = new RegExp(`\\b(it|describe)(\\.\\w+\\([^)]*\\))?\\((['"])${escaped}\\3`).test(source);
      expect(named, `${file} has no test "${title}"`).toBe(true);
    }
  });
});
