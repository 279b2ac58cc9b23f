import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Two files at a time: most tests wait on sockets, child processes and event-time clocks rather
    // than compute, and vitest's default (cores − 1) runs them one at a time on a 2-core machine.
    maxWorkers: 2,
  },
});
