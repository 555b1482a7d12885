import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

export default defineConfig(async () => {
  const migrations = await readD1Migrations('migrations')
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              main: './src/index.ts',
              wrangler: { configPath: './wrangler.toml' },
              miniflare: { bindings: { ADMIN_TOKEN: 'test-admin-token', TEST_MIGRATIONS: migrations } },
            }),
          ],
          test: { name: 'worker', include: ['test/worker/**/*.test.ts'], setupFiles: ['test/worker/setup.ts'] },
        },
        {
          test: {
            name: 'node',
            include: ['test/agent/**/*.test.ts', 'test/fakes/**/*.test.ts', 'test/engine/**/*.test.ts', 'test/ledger/**/*.test.ts', 'test/session/**/*.test.ts', 'test/soak/**/*.test.ts', 'test/emulators/**/*.test.ts', 'test/source/**/*.test.ts'],
            environment: 'node',
          },
        },
      ],
    },
  }
})
