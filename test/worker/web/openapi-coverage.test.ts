import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../../src/app'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

/** `METHOD /path` of every API route the app serves: middleware (ALL), pages and /__debug left out. */
function mountedOperations(): string[] {
  const ops = buildApp()
    .routes.filter((r) => r.method !== 'ALL')
    .filter((r) => r.path.startsWith('/api/') || r.path === '/health')
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
  return [...new Set(ops)].sort()
}

async function documentedOperations(): Promise<string[]> {
  const doc = (await (await SELF.fetch('http://x/api/openapi.json')).json()) as {
    paths: Record<string, Record<string, unknown>>
  }
  return Object.entries(doc.paths)
    .flatMap(([path, item]) =>
      METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort()
}

describe('the OpenAPI document', () => {
  it('documents every mounted API route, and documents nothing that is not mounted', async () => {
    const mounted = mountedOperations()
    const documented = await documentedOperations()
    expect(mounted.length).toBeGreaterThan(90)
    expect(mounted.filter((op) => !documented.includes(op))).toEqual([])
    expect(documented.filter((op) => !mounted.includes(op))).toEqual([])
  })
})
