/**
 * Seed SQL for the dashboard benchmark: 20 clients, 1,000 agents each on an instance, 30 pools with
 * 30 days of spot price change points (one every 20-60 min), on-demand prices, 30 days of savings rows.
 */

const DAY = 86_400_000
const TYPES = ['t3.medium', 'm5.large', 'c5.xlarge', 'r5.large', 'm6i.large']
const ZONES = ['a', 'b', 'c', 'd', 'e', 'f']
const REGION = 'us-east-1'

export interface Seeded {
  clientId: string
  instanceId: string
  statements: string[]
}

/** Deterministic pseudo-random numbers (mulberry32), so every run seeds the same fleet. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function batched(table: string, columns: string, rows: string[], size = 400): string[] {
  const out: string[] = []
  for (let i = 0; i < rows.length; i += size)
    out.push(`insert into ${table} (${columns}) values ${rows.slice(i, i + size).join(',')};`)
  return out
}

export function seedSql(now: number, agentsTotal = 1000, clientsTotal = 20): Seeded {
  const rnd = random(42)
  const clients: string[] = []
  const agents: string[] = []
  const instances: string[] = []
  const savings: string[] = []
  for (let c = 0; c < clientsTotal; c++)
    clients.push(
      `('bench_cli_${c}','Bench client ${c}','c${c}@bench.example','active',${now - 40 * DAY},${now})`,
    )
  for (let i = 0; i < agentsTotal; i++) {
    const client = `bench_cli_${i % clientsTotal}`
    const type = TYPES[i % TYPES.length]!
    const zone = ZONES[i % ZONES.length]!
    const iid = `i-bench${String(i).padStart(10, '0')}`
    const status = rnd() < 0.9 ? 'online' : 'offline'
    const mode = rnd() < 0.8 ? 'spot' : 'ondemand'
    agents.push(
      `('bench_agt_${i}','${client}','web-${i}','host-${i}','${status}',1,'5.0.0','${iid}',${now - Math.floor(rnd() * 60_000)},${now - 30 * DAY},${now})`,
    )
    instances.push(
      `('bench_ins_${i}','${client}','bench_agt_${i}','${iid}','${type}','${REGION}','${REGION}${zone}','${mode}','${type}.${REGION}${zone}','active',${now - 30 * DAY},${now})`,
    )
    for (let d = 0; d < 30; d++) {
      const day = new Date(now - d * DAY).toISOString().slice(0, 10)
      const baseline = 1 + rnd()
      const primary = baseline * (0.25 + rnd() * 0.1)
      savings.push(
        `('bench_agt_${i}','${client}','${day}',${baseline.toFixed(4)},${primary.toFixed(4)},0,0,${(baseline - primary).toFixed(4)},${now})`,
      )
    }
  }
  const pools: string[] = []
  const prices: string[] = []
  const ondemand: string[] = []
  for (const type of TYPES) {
    const base = 0.02 + rnd() * 0.1
    ondemand.push(`('${type}','${REGION}',${(base * 3.2).toFixed(4)},${now - 35 * DAY})`)
    for (const zone of ZONES) {
      const pool = `${type}.${REGION}${zone}`
      pools.push(`('${pool}','${type}','${REGION}','${REGION}${zone}',${now - 35 * DAY})`)
      for (let t = now - 30 * DAY; t < now; t += (20 + Math.floor(rnd() * 40)) * 60_000) {
        prices.push(`('${pool}',${(base * (0.85 + rnd() * 0.3)).toFixed(5)},${t})`)
      }
    }
  }
  return {
    clientId: 'bench_cli_0',
    instanceId: 'i-bench0000000000',
    statements: [
      ...batched('clients', 'id,name,email,status,created_at,updated_at', clients),
      ...batched(
        'agents',
        'id,client_id,logical_agent_id,hostname,status,enabled,agent_version,instance_id,last_heartbeat_at,created_at,updated_at',
        agents,
      ),
      ...batched(
        'instances',
        'id,client_id,agent_id,instance_id,instance_type,region,az,mode,pool_id,status,created_at,updated_at',
        instances,
      ),
      ...batched('pools', 'id,instance_type,region,az,created_at', pools),
      ...batched('spot_prices', 'pool_id,price,observed_at', prices),
      ...batched('ondemand_prices', 'instance_type,region,price,observed_at', ondemand),
      ...batched(
        'savings_daily',
        'agent_id,client_id,day,baseline_cost,primary_cost,replica_cost,overlap_cost,savings,computed_at',
        savings,
      ),
    ],
  }
}
