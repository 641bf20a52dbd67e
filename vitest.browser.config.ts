import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the web UI's pages in a real headless Chromium (not part of `npm test`).
export default defineConfig({
  test: {
    include: ['test/ui/*.browser.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
