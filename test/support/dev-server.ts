/**
 * wrangler dev for tests, started through wrangler's API so that two things the CLI cannot turn off
 * are off: file watching (the snapshot never changes) and the inspector. With an inspector, wrangler
 * enables devtools' Network domain on the runtime and relays every event of every subrequest (D1
 * queries, Durable Object calls) to its Node process as a debug-log POST: on a 2-core machine that
 * relay cost as much CPU as the Worker itself. Same state layout, port and vars as the CLI.
 *
 * Run as its own process: `node --import tsx dev-server.ts <json of DevServerOptions>`. It writes the
 * runtime's own port (behind wrangler's proxy) to `runtimePortFile` after every (re)load, and stops on
 * SIGTERM.
 */
import { writeFileSync } from 'node:fs'
import { unstable_DevEnv } from 'wrangler'

export interface DevServerOptions {
  config: string
  port: number
  persistDir: string
  vars: Record<string, string>
  runtimePortFile: string
}

const options = JSON.parse(process.argv[2] ?? '') as DevServerOptions
const devEnv = new unstable_DevEnv()
const onReloadComplete = devEnv.proxy.onReloadComplete.bind(devEnv.proxy)
devEnv.proxy.onReloadComplete = (event) => {
  writeFileSync(options.runtimePortFile, String(event.proxyData.userWorkerUrl.port))
  // Tests count these lines: one per start, any more is a reload under their feet.
  console.log(`runtime loaded on port ${event.proxyData.userWorkerUrl.port}`)
  onReloadComplete(event)
}
const worker = await devEnv.startWorker({
  config: options.config,
  bindings: Object.fromEntries(Object.entries(options.vars).map(([name, value]) => [name, { type: 'plain_text', value }])),
  dev: {
    server: { hostname: '127.0.0.1', port: options.port },
    inspector: false,
    watch: false,
    persist: options.persistDir,
    testScheduled: true,
    logLevel: 'info',
    remote: false,
  },
})
await worker.ready
console.log(`dev server ready on ${(await worker.url).href}`)
process.once('SIGTERM', () => {
  void worker.dispose().finally(() => process.exit(0))
})
