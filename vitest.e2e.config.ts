import { defineConfig } from 'vitest/config'

/** End-to-end tests: real processes (wrangler dev, agent bundles, fakes, Chromium), one file at a time. */
export default defineConfig({
  test: {
    name: 'e2e',
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    passWithNoTests: true,
  },
})
