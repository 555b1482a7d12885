/**
 * A frozen copy of the Worker for tests: bundled once from the tree, with its own copy of the static
 * assets and a wrangler config that has no [build] step, so wrangler dev watches nothing anyone edits.
 *
 * Why: wrangler dev reloads the Worker whenever a watched file changes: anything under src/ (the
 * [build] watch_dir), the assets dir (public/, which every other wrangler start rewrites through the
 * [build] command) and the config. In this shared tree other engineers edit src/ all the time, and its
 * proxy answers every POST in flight during a reload with `503 Your worker restarted mid-request`.
 * A test must run the code it started with.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../../scripts/fleet/control-plane'

const run = promisify(execFile)
const WRANGLER = join(ROOT, 'scripts', 'wrangler.sh')

/** Builds the snapshot under `dir`; returns the path of the wrangler config that runs it. */
export async function snapshotWorker(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  // What wrangler's [build] did at every start: the agent bundle the e2e fleet runs and public/agent/.
  await run(process.execPath, [join(ROOT, 'agent', 'build.mjs')], { cwd: ROOT })
  const assets = join(dir, 'public')
  await cp(join(ROOT, 'public'), assets, { recursive: true })
  const source = await readFile(join(ROOT, 'wrangler.toml'), 'utf8')
  const common = setKey(setKey(withoutTable(source, 'build'), 'migrations_dir', join(ROOT, 'migrations')), 'directory', assets)

  const buildConfig = join(dir, 'build.toml')
  await writeFile(buildConfig, setKey(common, 'main', join(ROOT, 'src', 'index.ts')))
  const outdir = join(dir, 'bundle')
  await run('bash', [WRANGLER, 'deploy', '--dry-run', '--outdir', outdir, '-c', buildConfig], { cwd: ROOT, env: { ...process.env, CI: 'true' } })

  const devConfig = join(dir, 'wrangler.toml')
  // Bundled again by wrangler dev (that adds its dev middleware, e.g. --test-scheduled's /__scheduled);
  // it watches only the snapshot's own files.
  await writeFile(devConfig, setKey(common, 'main', join(outdir, 'index.js')))
  return devConfig
}

/** Drops one `[name]` table (up to the next table header). */
function withoutTable(toml: string, name: string): string {
  const lines = toml.split('\n')
  const start = lines.findIndex((line) => line.trim() === `[${name}]`)
  if (start < 0) return toml
  const rest = lines.slice(start + 1).findIndex((line) => line.trimStart().startsWith('['))
  const end = rest < 0 ? lines.length : start + 1 + rest
  return [...lines.slice(0, start), ...lines.slice(end)].join('\n')
}

/** Sets the one `key = "..."` line of the config; throws when wrangler.toml no longer has exactly one. */
function setKey(toml: string, key: string, value: string): string {
  const pattern = new RegExp(`^${key}\\s*=.*$`, 'gm')
  const found = toml.match(pattern)?.length ?? 0
  if (found !== 1) throw new Error(`wrangler.toml: expected one "${key} =" line, found ${found}`)
  return toml.replace(pattern, `${key} = ${JSON.stringify(value)}`)
}
