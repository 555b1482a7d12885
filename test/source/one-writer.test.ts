/**
 * Each table has one writing module (docs/control-plane.md, "Who writes each table"): the drizzle
 * writes under src/ (`.insert(t)`, `.update(t)`, `.delete(t)` of a table of src/db/schema.ts) come from
 * exactly one module, whose header says `Writes:` with the table's name, and the docs' list names it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SRC = join(ROOT, 'src')

/** Schema variable → SQL table name. */
function schemaTables(): Map<string, string> {
  const schema = readFileSync(join(SRC, 'db/schema.ts'), 'utf8')
  const tables = new Map<string, string>()
  for (const m of schema.matchAll(/export const (\w+) = sqliteTable\(\s*'(\w+)'/g)) tables.set(m[1]!, m[2]!)
  return tables
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(e.name) ? [path] : []
  })
}

/** Table → the modules (paths under src/) that write it with drizzle. */
function writersIn(files: Map<string, string>, tables: Map<string, string>): Map<string, Set<string>> {
  const writers = new Map<string, Set<string>>()
  for (const [module, text] of files) {
    for (const m of text.matchAll(/\.(?:insert|update|delete)\(\s*(\w+)\s*\)/g)) {
      const table = tables.get(m[1]!)
      if (!table) continue
      writers.set(table, (writers.get(table) ?? new Set()).add(module))
    }
  }
  return writers
}

/** The comment above a module's first import: where its `Writes:` line belongs. */
function headerOf(text: string): string {
  const firstImport = text.search(/^import /m)
  return firstImport < 0 ? text : text.slice(0, firstImport)
}

/** Table → the writer docs/control-plane.md names (`none` when it says no module writes it). */
function documentedWriters(): Map<string, string> {
  const doc = readFileSync(join(ROOT, 'docs/control-plane.md'), 'utf8')
  const section = doc.split('### Who writes each table')[1]?.split(/\n#+ /)[0] ?? ''
  const documented = new Map<string, string>()
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [tablesCell, writerCell] = row.split('|').slice(1, 3)
    const writer = /`([^`]+\.ts)`/.exec(writerCell ?? '')?.[1] ?? 'none'
    for (const t of (tablesCell ?? '').matchAll(/`(\w+)`/g)) documented.set(t[1]!, `src/${writer}`)
  }
  return documented
}

/** What breaks the rule: one line per problem, empty when each table has one named writer. */
function oneWriterProblems(files: Map<string, string>): string[] {
  const tables = schemaTables()
  const writers = writersIn(files, tables)
  const documented = documentedWriters()
  const problems: string[] = []
  for (const table of tables.values()) {
    const modules = [...(writers.get(table) ?? [])].sort()
    if (modules.length > 1) problems.push(`table ${table} written by ${modules.join(', ')}`)
    for (const module of modules) {
      if (!new RegExp(`Writes:[^\\n]*\`${table}\``).test(headerOf(files.get(module)!)))
        problems.push(`table ${table}: ${module} has no 'Writes:' line naming it`)
    }
    const named = documented.get(table)
    const actual = modules.length === 1 ? modules[0] : modules.length === 0 ? 'src/none' : undefined
    if (named === undefined) problems.push(`table ${table}: docs/control-plane.md names no writer`)
    else if (actual !== undefined && named !== actual)
      problems.push(`table ${table}: docs/control-plane.md names ${named}, written by ${actual}`)
  }
  return problems
}

function readSources(): Map<string, string> {
  return new Map(sourceFiles(SRC).map((f) => [relative(ROOT, f), readFileSync(f, 'utf8')]))
}

describe('one writer per table', () => {
  it('finds every table of the schema', () => {
    expect(schemaTables().size).toBeGreaterThan(25)
  })

  it('has each table written by one module, named in its header and in docs/control-plane.md', () => {
    expect(oneWriterProblems(readSources())).toEqual([])
  })

  it('names both modules when a second one writes a table', () => {
    const files = readSources()
    files.set('src/routes/stray.ts', "import { agents } from '../db/schema'\ndb.update(agents).set({})\n")
    expect(oneWriterProblems(files)).toContain(
      'table agents written by src/flows/agents.ts, src/routes/stray.ts',
    )
  })

  it('wants the Writes: line of the one writer', () => {
    const files = readSources()
    files.set('src/flows/events.ts', files.get('src/flows/events.ts')!.replace('Writes: `events`.', ''))
    expect(oneWriterProblems(files)).toContain(
      "table events: src/flows/events.ts has no 'Writes:' line naming it",
    )
  })
})
