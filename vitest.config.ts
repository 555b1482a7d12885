import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { readFileSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

export default defineConfig(async () => {
  const migrations = await readD1Migrations('migrations')
  // The fake IMDS's test certificate: the test Worker verifies identity documents signed with its key.
  const IID_TRUST_CERTS = readFileSync('test/fakes/imds/TEST-ONLY-iid-signing-cert.pem', 'utf8')
  const TEST_IID_SIGNING_KEY = readFileSync('test/fakes/imds/TEST-ONLY-iid-signing-key.pem', 'utf8')
  return {
    test: {
      // vitest's default on 2 cores is 1 worker (cores - 1); the tests mostly wait on workerd, fake servers
      // and agent processes, so two at a time use the machine better.
      maxWorkers: 2,
      projects: [
        {
          plugins: [
            cloudflareTest({
              main: './src/index.ts',
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  ADMIN_TOKEN: 'test-admin-token',
                  TEST_MIGRATIONS: migrations,
                  IID_TRUST_CERTS,
                  TEST_IID_SIGNING_KEY,
                },
              },
            }),
          ],
          test: {
            name: 'worker',
            include: ['test/worker/**/*.test.ts'],
            setupFiles: ['test/worker/setup.ts'],
          },
        },
        {
          test: {
            name: 'node',
            include: [
              'test/agent/**/*.test.ts',
              'test/fakes/**/*.test.ts',
              'test/engine/**/*.test.ts',
              'test/ledger/**/*.test.ts',
              'test/session/**/*.test.ts',
              'test/soak/**/*.test.ts',
              'test/emulators/**/*.test.ts',
              'test/source/**/*.test.ts',
              'test/bench/**/*.test.ts',
            ],
            environment: 'node',
          },
        },
      ],
    },
  }
})
