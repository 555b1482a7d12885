import { describe, expect, it } from 'vitest'
import { perHour, usd } from '../../../src/web/ui/bits'

describe('money on the pages', () => {
  it('shows small amounts to the precision they have, never $0.00 for a non-zero amount', () => {
    expect(usd(0.0123)).toBe('$0.0123')
    expect(usd(0.004849)).toBe('$0.00485')
    expect(usd(0.5)).toBe('$0.50')
    expect(usd(0.123456)).toBe('$0.123')
    expect(usd(0.00000042)).toBe('<$0.000001')
    expect(usd(-0.0123)).toBe('−$0.0123')
    expect(usd(0)).toBe('$0.00')
    expect(usd(1234.5678)).toBe('$1,234.57')
    expect(usd(null)).toBe('—')
    expect(usd(Number.NaN)).toBe('—')
  })

  it('shows hourly prices to the 4 decimals AWS publishes, and below that what they have', () => {
    expect(perHour(0.0416)).toBe('$0.0416/h')
    expect(perHour(0.1)).toBe('$0.1000/h')
    expect(perHour(0.00042)).toBe('$0.00042/h')
    expect(perHour(null)).toBe('—')
  })
})
