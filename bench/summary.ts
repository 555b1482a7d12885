/**
 * The benchmark summary: every figure of bench/results/*.json as one Markdown table, written into
 * docs/benchmarks.md between the bench markers (the rest of the page is left alone).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const START_MARKER = '<!-- bench:start -->'
export const END_MARKER = '<!-- bench:end -->'

type Results = Record<string, Record<string, unknown>>

/** Every results file, keyed by its name without `.json`. */
export function readResults(dir: string): Results {
  const results: Results = {}
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    try {
      results[file.slice(0, -5)] = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<
        string,
        unknown
      >
    } catch {
      // A half-written file of an area bench that failed: left out of the table.
    }
  }
  return results
}

/** A Markdown table of the numeric figures of each results file (nested objects flattened one level). */
export function summaryTable(results: Results, machine: string, at: Date): string {
  const rows: string[] = []
  for (const [area, figures] of Object.entries(results)) {
    for (const [key, value] of Object.entries(figures)) {
      if (typeof value === 'number') rows.push(`| ${area} | ${key} | ${format(value)} |`)
      else if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [inner, v] of Object.entries(value))
          if (typeof v === 'number') rows.push(`| ${area} | ${key}.${inner} | ${format(v)} |`)
      }
    }
  }
  return [
    `Table written ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}; each results file's own \`machine\` line says where and when its figures were measured.`,
    '',
    '| area | figure | value |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n')
}

/** Replaces the text between the markers of a Markdown page (appending a section with them when it has none). */
export function writeBetweenMarkers(pagePath: string, body: string): void {
  const readme = readFileSync(pagePath, 'utf8')
  const block = `${START_MARKER}\n${body}\n${END_MARKER}`
  const start = readme.indexOf(START_MARKER)
  const end = readme.indexOf(END_MARKER)
  const next =
    start >= 0 && end > start
      ? readme.slice(0, start) + block + readme.slice(end + END_MARKER.length)
      : `${readme.trimEnd()}\n\n## Benchmarks (\`npm run bench\`)\n\n${block}\n`
  writeFileSync(pagePath, next)
}

function format(value: number): string {
  return Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: 3 })
}
