/**
 * The request bodies the installed Python agents send (`test/fixtures/legacy-agent-bodies/`), filled in
 * with one emulated agent's identity. The files are read once; every call returns a fresh copy.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** Where the test vectors live (test/fixtures/legacy-agent-bodies/). */
export const LEGACY_BODIES_DIR = resolve(import.meta.dirname, '..', 'fixtures', 'legacy-agent-bodies')

type Json = Record<string, unknown>
const cache = new Map<string, string>()

/** One body file as parsed JSON (a fresh object each call). */
export function legacyBody(file: string): Json {
  let text = cache.get(file)
  if (text === undefined) {
    text = readFileSync(join(LEGACY_BODIES_DIR, file), 'utf8')
    cache.set(file, text)
  }
  return JSON.parse(text) as Json
}

/** The identity an emulated installed agent runs with. */
export interface LegacyIdentity {
  version: '4.0.0' | '3.2.0'
  token: string
  logicalAgentId: string
  instanceId: string
  instanceType: string
  region: string
  az: string
  mode: 'spot' | 'ondemand'
}

const v = (identity: LegacyIdentity) => (identity.version === '3.2.0' ? 'v3' : 'v4')
const poolOf = (identity: LegacyIdentity) => `${identity.instanceType}.${identity.az}`

export function registerBody(identity: LegacyIdentity): Json {
  return {
    ...legacyBody(`register-${v(identity)}.json`),
    client_token: identity.token,
    logical_agent_id: identity.logicalAgentId,
    instance_id: identity.instanceId,
    instance_type: identity.instanceType,
    region: identity.region,
    az: identity.az,
    ...(identity.version === '4.0.0' ? { mode: identity.mode } : {}),
  }
}

export function heartbeatBody(identity: LegacyIdentity): Json {
  if (identity.version === '3.2.0') {
    return { ...legacyBody('heartbeat-v3.json'), status: 'online', monitored_instances: [identity.instanceId] }
  }
  return {
    ...legacyBody('heartbeat-v4.json'),
    monitored_instances: [identity.instanceId],
    instance_id: identity.instanceId,
    instance_type: identity.instanceType,
    mode: identity.mode,
    az: identity.az,
  }
}

/** The pricing report of the agent's own instance, with the spot prices of every pool it sees. */
export function pricingBody(identity: LegacyIdentity, spot: Record<string, number>, onDemand: number): Json {
  const pools = Object.entries(spot).map(([az, price]) => ({
    pool_id: `${identity.instanceType}.${az}`,
    instance_type: identity.instanceType,
    az,
    price,
  }))
  if (identity.version === '3.2.0') {
    const body = legacyBody('pricing-report-v3.json')
    return {
      ...body,
      instance: { ...(body.instance as Json), instance_id: identity.instanceId, instance_type: identity.instanceType, region: identity.region, az: identity.az, current_mode: identity.mode, current_pool_id: identity.mode === 'spot' ? poolOf(identity) : null },
      on_demand_price: { price: onDemand },
      spot_pools: pools,
    }
  }
  const cheapest = pools.reduce<(typeof pools)[number] | null>((best, p) => (best && best.price <= p.price ? best : p), null)
  const body = legacyBody('pricing-report-v4.json')
  return {
    ...body,
    instance: { instance_id: identity.instanceId, instance_type: identity.instanceType, region: identity.region, az: identity.az, mode: identity.mode, pool_id: poolOf(identity) },
    pricing: {
      ...(body.pricing as Json),
      on_demand_price: onDemand,
      current_spot_price: spot[identity.az] ?? null,
      cheapest_pool: cheapest && { pool_id: cheapest.pool_id, price: cheapest.price },
      spot_pools: pools,
      collected_at: new Date().toISOString(),
    },
  }
}

/** The switch report the agent sends after moving from `from` to `to` (4.0.0 timing keys). */
export function switchReportBody(identity: LegacyIdentity, from: LegacyIdentity, startedAt: number, prices: { onDemand: number; oldSpot: number | null; newSpot: number | null }): Json {
  const instance = (i: LegacyIdentity) => ({
    instance_id: i.instanceId,
    instance_type: i.instanceType,
    region: i.region,
    az: i.az,
    ami_id: 'ami-0abcdef1234567890',
    mode: i.mode,
    pool_id: i.mode === 'spot' ? poolOf(i) : null,
  })
  const at = (offsetMs: number) => new Date(startedAt + offsetMs).toISOString()
  const body = legacyBody(`switch-report-${v(identity)}.json`)
  return {
    ...body,
    old_instance: instance(from),
    new_instance: instance(identity),
    prices: { on_demand: prices.onDemand, old_spot: prices.oldSpot, new_spot: prices.newSpot },
    timing: {
      switch_initiated_at: at(0),
      ...(identity.version === '4.0.0' ? { new_instance_launched_at: at(4_000) } : {}),
      new_instance_ready_at: at(40_000),
      traffic_switched_at: at(42_000),
      old_instance_terminated_at: null,
    },
    trigger: 'manual',
  }
}
