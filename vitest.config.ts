import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // one temporary root per run; fails the run when a test leaves a folder behind
    globalSetup: ['test/global-setup.ts'],
    // each test process: TensorFlow.js in production mode, as the command runs it
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
