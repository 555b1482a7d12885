// Builds the agent into ONE file that runs with plain `node` 20+ (no runtime dependency), and copies
// it with its unit and install script to public/agent/, where the Worker serves them as static assets.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'agent/dist/spotguard-agent.js')

await build({
  entryPoints: [join(root, 'agent/src/main.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS: runs as a plain .js file wherever it is installed (no package.json "type" needed).
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  // ws loads these native speedups only when present; the agent does without them.
  external: ['bufferutil', 'utf-8-validate'],
  // aws4fetch's signer uses the global Headers, whose getter loads Node's bundled undici (10-20 MB
  // resident): this small class stands in for it (agent/src/net/request.ts: no fetch either).
  inject: [join(root, 'agent/src/net/headers.ts')],
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
})
// The repository is "type": "module"; this keeps the bundle CommonJS inside it too.
writeFileSync(join(root, 'agent/dist/package.json'), '{ "type": "commonjs" }\n')

const publicDir = join(root, 'public/agent')
mkdirSync(publicDir, { recursive: true })
copyFileSync(out, join(publicDir, 'spotguard-agent.js'))
copyFileSync(join(root, 'agent/install.sh'), join(publicDir, 'install.sh'))
copyFileSync(join(root, 'agent/spotguard-agent.service'), join(publicDir, 'spotguard-agent.service'))
console.log(`agent bundle: ${out} (${statSync(out).size} bytes)`)
