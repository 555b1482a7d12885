import type { D1Migration } from 'cloudflare:test'
import type { Env as WorkerEnv } from '../../src/env'

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[]
      /** The fake IMDS's test signing key (PKCS#8 PEM): the tests sign identity documents with it. */
      TEST_IID_SIGNING_KEY: string
    }
  }
}
