/** The fleet's and the benchmark's pure parts: the market, the signal schedule, options, the bill, the benchmarks table. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectMonthlyBill, WORKERS_PAID_PRICES } from '../../bench/cost'
import { summaryTable, writeBetweenMarkers, START_MARKER, END_MARKER } from '../../bench/summary'
import { FAST_SPEED, parseStartOptions, splitArgs } from '../../scripts/fleet/args'
import { spotPrice, spotPrices } from '../../scripts/fleet/market'
import { signalsBetween, SIGNAL_EVERY_HOURS } from '../../scripts/fleet/signals'
import { pricingBody, registerBody, type LegacyIdentity } from '../emulators/legacy-bodies'

const market = { seed: 42, onDemandPrice: 0.0416, zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] }
const t0 = Date.parse('2026-01-01T00:00:00Z')

describe('the simulated market', () => {
  it('gives each AZ its own moving price, constant within 5 minutes, below 1.2× on-demand', () => {
    const week = Array.from({ length: 7 * 24 * 12 }, (_, i) => t0 + i * 300_000)
    for (const az of market.zones) {
      const series = week.map((t) => spotPrice(market, az, t)!)
      expect(new Set(series).size).toBeGreaterThan(20)
      expect(Math.max(...series)).toBeLessThanOrEqual(0.0416 * 1.2)
      expect(Math.min(...series)).toBeGreaterThan(0.0416 * 0.15)
    }
    expect(spotPrice(market, 'us-east-1a', t0 + 1_000)).toBe(spotPrice(market, 'us-east-1a', t0 + 299_000))
    expect(spotPrices(market, t0)).toEqual(spotPrices({ ...market }, t0))
    expect(spotPrice(market, 'eu-west-1a', t0)).toBeUndefined()
  })

  it('sends rebalance recommendations and interruptions at about their documented rates, the same for the same seed', () => {
    const month = 30 * 24 * 3_600_000
    const signals = Array.from({ length: 20 }, (_, i) => signalsBetween(7, `i-${i}`, t0, t0 + month)).flat()
    const perInstanceHours = 20 * 30 * 24
    const rebalances = signals.filter((s) => s.kind === 'rebalance').length
    const interrupts = signals.filter((s) => s.kind === 'interrupt').length
    expect(rebalances).toBeGreaterThan((perInstanceHours / SIGNAL_EVERY_HOURS.rebalance) * 0.7)
    expect(rebalances).toBeLessThan((perInstanceHours / SIGNAL_EVERY_HOURS.rebalance) * 1.3)
    expect(interrupts).toBeGreaterThan((perInstanceHours / SIGNAL_EVERY_HOURS.interrupt) * 0.6)
    expect(interrupts).toBeLessThan((perInstanceHours / SIGNAL_EVERY_HOURS.interrupt) * 1.4)
    expect(signalsBetween(7, 'i-1', t0, t0 + month)).toEqual(signalsBetween(7, 'i-1', t0, t0 + month))
  })
})

describe('npm start options', () => {
  it('reads --agents, --real-time=false, --port and --state-dir, and refuses unknown ones', () => {
    expect(
      parseStartOptions(['--agents', '5', '--real-time=false', '--port=9999', '--state-dir', '/tmp/x']),
    ).toEqual({ agents: 5, speed: FAST_SPEED, port: 9999, stateDir: '/tmp/x' })
    expect(parseStartOptions([]).agents).toBe(3)
    expect(parseStartOptions([]).speed).toBe(1)
    expect(() => parseStartOptions(['--agent', '2'])).toThrow(/agent/)
    expect(() => parseStartOptions(['--agents', 'many'])).toThrow(/--agents/)
    expect(splitArgs(['interrupt', 'agent-1', '--in', '30'])).toEqual({
      words: ['interrupt', 'agent-1'],
      flags: { in: '30' },
    })
  })
})

describe('the projected bill', () => {
  const idle = {
    workerRequests: 0,
    workerCpuMs: 0,
    doRequests: 0,
    webSocketMessages: 0,
    doActiveSeconds: 0,
    d1RowsRead: 0,
    d1RowsWritten: 0,
  }

  it('is the base price alone while usage stays within what Workers Paid includes', () => {
    expect(projectMonthlyBill(10, idle).totalUsd).toBe(WORKERS_PAID_PRICES.baseMonthly)
  })

  it('bills each unit past its allowance at its list price, socket messages at 20:1', () => {
    const bill = projectMonthlyBill(100_000, { ...idle, d1RowsWritten: 30, webSocketMessages: 200 })
    const line = (item: string) => bill.lines.find((l) => l.item === item)!
    // 100,000 agents × 730 h × 30 rows = 2.19 billion rows; 2.14 billion past the 50 million included, at $1/M.
    expect(line('D1 rows written').usd).toBe(2140)
    // 200 messages/h → 10 requests/h: 730 million, 729 million billable at $0.15/M (the engine's
    // object requests are measured and come in `doRequests`, nothing is assumed on top).
    expect(line('Durable Object requests').usd).toBeCloseTo(109.35, 2)
    expect(bill.totalUsd).toBeCloseTo(5 + 2140 + 109.35, 2)
    expect(bill.perAgentUsd).toBeCloseTo(bill.totalUsd / 100_000, 4)
  })

  it('holds each line against its budget of issue 13, scaled to the fleet', () => {
    // 1,000 agents × 730 h × 5 object requests = 3.65 million, 2.65 million billable: $0.40, on budget.
    const onBudget = projectMonthlyBill(1_000, { ...idle, doRequests: 5 })
    const objects = (bill: typeof onBudget) =>
      bill.budgets.find((b) => b.budget === 'Durable Object requests')!
    expect(objects(onBudget)).toEqual({
      budget: 'Durable Object requests',
      usd: 0.4,
      budgetUsd: 0.4,
      withinBudget: true,
    })
    expect(objects(projectMonthlyBill(1_000, { ...idle, doRequests: 6 })).withinBudget).toBe(false)
    // 10,000 agents may spend ten times as much.
    expect(objects(projectMonthlyBill(10_000, { ...idle, doRequests: 5 })).budgetUsd).toBe(4)
  })
})

describe('the benchmarks table of docs/benchmarks.md', () => {
  it('lists every numeric figure with the machine and replaces only the text between the markers', () => {
    const table = summaryTable(
      { agent: { rss_mb: 41.5, bundle_bytes: 123456, machine: 'x' }, cost: { prices: { baseMonthly: 5 } } },
      'test machine',
      new Date(t0),
    )
    expect(table).toContain('test machine')
    expect(table).toContain('| agent | rss_mb | 41.5 |')
    expect(table).toContain('| agent | bundle_bytes | 123,456 |')
    expect(table).toContain('| cost | prices.baseMonthly | 5 |')
    const readme = join(mkdtempSync(join(tmpdir(), 'readme-')), 'README.md')
    writeFileSync(readme, `# X\n\n${START_MARKER}\nold\n${END_MARKER}\n\n## After\n`)
    writeBetweenMarkers(readme, 'new table')
    expect(readFileSync(readme, 'utf8')).toBe(
      `# X\n\n${START_MARKER}\nnew table\n${END_MARKER}\n\n## After\n`,
    )
  })
})

describe('the installed-agent bodies', () => {
  const identity: LegacyIdentity = {
    version: '4.0.0',
    token: 'tok',
    logicalAgentId: 'web-9',
    instanceId: 'i-0123456789abcdef0',
    instanceType: 't3.medium',
    region: 'us-east-1',
    az: 'us-east-1b',
    mode: 'spot',
  }

  it('keep the files’ keys and carry the emulated identity', () => {
    expect(registerBody(identity)).toMatchObject({
      client_token: 'tok',
      logical_agent_id: 'web-9',
      instance_id: 'i-0123456789abcdef0',
      agent_version: '4.0.0',
      public_ip: null,
    })
    const v3 = registerBody({ ...identity, version: '3.2.0' })
    expect(v3.agent_version).toBe('3.2.0')
    expect(v3).not.toHaveProperty('mode')
    const report = pricingBody(identity, { 'us-east-1a': 0.02, 'us-east-1b': 0.01 }, 0.0416) as {
      pricing: { cheapest_pool: unknown; current_spot_price: number }
    }
    expect(report.pricing.cheapest_pool).toEqual({ pool_id: 't3.medium.us-east-1b', price: 0.01 })
    expect(report.pricing.current_spot_price).toBe(0.01)
  })
})
