// Builds the agent into ONE file that runs with plain `node` 20+ (no runtime dependency), and copies
// it with its unit and install script to public/agent/, where the Worker serves them as static assets.
import { build } from 'esbuild'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'agent/dist/spotguard-agent.js')

/**
 * Writes only what changed: wrangler dev watches public/ and reloads its Worker on every write, so a
 * rewrite of the same bytes by another start would fail the requests in flight of every running one.
 */
function writeIfChanged(path, content) {
  const bytes = Buffer.from(content)
  if (existsSync(path) && readFileSync(path).equals(bytes)) return
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, bytes)
}

const result = await build({
  write: false,
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
const bundle = result.outputFiles[0].contents
writeIfChanged(out, bundle)
// The repository is "type": "module"; this keeps the bundle CommonJS inside it too.
writeIfChanged(join(root, 'agent/dist/package.json'), '{ "type": "commonjs" }\n')

const publicDir = join(root, 'public/agent')
writeIfChanged(join(publicDir, 'spotguard-agent.js'), bundle)
for (const name of ['install.sh', 'spotguard-agent.service']) {
  writeIfChanged(join(publicDir, name), readFileSync(join(root, 'agent', name)))
}
console.log(`agent bundle: ${out} (${bundle.length} bytes)`)
