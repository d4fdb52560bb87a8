import { defineConfig } from 'vitest/config';

// Report tests render SVG with our own jsdom instance, so the default `node` environment is kept
// (vitest's `jsdom` environment shifts Observable Plot's half-pixel offsets).
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
