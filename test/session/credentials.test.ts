import { describe, expect, it } from 'vitest'
import { MAX_CREDENTIALS, TRUST_MS, TrustedTokens, type ProvenToken } from '../../src/session/credentials'

const same = (a: string, b: string) => a === b
const clientToken: ProvenToken = { clientId: 'cli_1', instanceId: null, expiresAt: null }

describe('the tokens an object trusts', () => {
  it('trusts a proven token until TRUST_MS passes, then asks D1 again', () => {
    const tokens = new TrustedTokens(same)
    expect(tokens.remember('h1', clientToken, tokens.epoch, 1_000)).toBe(true)
    expect(tokens.find('h1', 1_000 + TRUST_MS - 1)).toMatchObject({ clientId: 'cli_1' })
    expect(tokens.find('h1', 1_000 + TRUST_MS)).toBeNull()
    expect(tokens.find('h2', 1_000)).toBeNull()
  })

  it("never past the token's own expiry (a rotated client token)", () => {
    const tokens = new TrustedTokens(same)
    tokens.remember('h1', { ...clientToken, expiresAt: 61_000 }, tokens.epoch, 1_000)
    expect(tokens.find('h1', 60_999)).not.toBeNull()
    expect(tokens.find('h1', 61_000)).toBeNull()
  })

  it('keeps an agent token bound to its instance', () => {
    const tokens = new TrustedTokens(same)
    tokens.remember('h1', { clientId: 'cli_1', instanceId: 'i-1', expiresAt: null }, tokens.epoch, 0)
    expect(tokens.find('h1', 0)?.instanceId).toBe('i-1')
  })

  it('forgets every token at once', () => {
    const tokens = new TrustedTokens(same)
    tokens.remember('h1', clientToken, tokens.epoch, 0)
    tokens.remember('h2', clientToken, tokens.epoch, 0)
    tokens.forget()
    expect([tokens.find('h1', 1), tokens.find('h2', 1)]).toEqual([null, null])
  })

  it('refuses to remember a proof asked before a forget (it may predate a revocation)', () => {
    const tokens = new TrustedTokens(same)
    const asked = tokens.epoch
    tokens.forget()
    expect(tokens.epoch).not.toBe(asked)
    expect(tokens.remember('h1', clientToken, asked, 0)).toBe(false)
    expect(tokens.find('h1', 1)).toBeNull()
    expect(tokens.remember('h1', clientToken, tokens.epoch, 0)).toBe(true)
    expect(tokens.find('h1', 1)).not.toBeNull()
  })

  it('renews a token proven again and keeps the newest few', () => {
    const tokens = new TrustedTokens(same)
    for (let i = 0; i < MAX_CREDENTIALS + 2; i++) tokens.remember(`h${i}`, clientToken, tokens.epoch, i)
    const kept = (now: number) =>
      Array.from({ length: MAX_CREDENTIALS + 2 }, (_, i) => `h${i}`).filter((h) => tokens.find(h, now))
    expect(kept(10)).toEqual(['h2', 'h3', 'h4', 'h5'])
    tokens.remember('h2', clientToken, tokens.epoch, 100)
    expect(kept(5 + TRUST_MS)).toEqual(['h2'])
  })

  it('compares with the given (constant-time) comparison', () => {
    const compared: [string, string][] = []
    const tokens = new TrustedTokens((a, b) => (compared.push([a, b]), a === b))
    tokens.remember('h1', clientToken, tokens.epoch, 0)
    tokens.find('h1', 0)
    expect(compared).toEqual([['h1', 'h1']])
  })
})
