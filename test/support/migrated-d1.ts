/**
 * A test control plane's local D1 with every migration applied, copied from a template made once per
 * set of migrations: wrangler's `d1 migrations apply` takes ~9 s of CPU on this machine, and each e2e
 * file, the soak and a few agent tests start a control plane of their own; a copy takes milliseconds.
 * The template lives in the temp dir, named for a hash of what the state depends on (the migrations,
 * wrangler.toml's database, wrangler's version), so a changed migration makes a new one.
 */
import { createHash } from 'node:crypto'
import { cp, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrateLocalD1, ROOT } from '../../scripts/fleet/control-plane'

/** Fills `persistDir` (absent or empty) with the migrated, empty D1. */
export async function migratedD1(persistDir: string): Promise<void> {
  await cp(await template(), persistDir, { recursive: true })
}

async function template(): Promise<string> {
  const dir = join(tmpdir(), `spotguard-d1-${await stateKey()}`)
  if (await exists(dir)) return dir
  // Built aside and renamed into place: a concurrent test process sees the whole template or none.
  const building = await mkdtemp(`${dir}-building-`)
  try {
    await migrateLocalD1(building)
    await rename(building, dir)
  } catch (error) {
    await rm(building, { recursive: true, force: true })
    if (!(await exists(dir))) throw error // else another process made it first
  }
  return dir
}

async function stateKey(): Promise<string> {
  const hash = createHash('sha256')
  const migrations = join(ROOT, 'migrations')
  for (const name of (await readdir(migrations)).filter((n) => n.endsWith('.sql')).sort()) {
    hash.update(name).update(await readFile(join(migrations, name)))
  }
  hash.update(await readFile(join(ROOT, 'wrangler.toml')))
  hash.update(await readFile(join(ROOT, 'node_modules', 'wrangler', 'package.json')))
  return hash.digest('hex').slice(0, 16)
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}
