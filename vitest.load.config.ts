import { defineConfig } from 'vitest/config'

/** Load and fault tests: 1,000 simulated agents against wrangler dev on loopback, minutes long. */
export default defineConfig({
  test: {
    name: 'load',
    include: ['test/load/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 120_000,
  },
})
