import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'

describe('GET /health', () => {
  it('reports the database as connected', async () => {
    const res = await SELF.fetch('http://x/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'healthy', database: 'connected' })
  })

  it('answers unknown routes with 404 JSON', async () => {
    const res = await SELF.fetch('http://x/nope')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND' })
  })
})
