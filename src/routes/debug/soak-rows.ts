/**
 * Soak-only route, present only when the Worker runs with `SOAK_READS=on` (the soak's own `wrangler
 * dev`): `GET /__debug/soak-rows/:clientId` answers, for the operator, the D1 rows of one client that
 * the soak's checker compares with EC2, read in one batch (one consistent snapshot). Reading them from
 * outside instead (a second runtime on the same SQLite file) made the Worker's own writes fail with
 * SQLITE_BUSY. Reads only.
 */
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { operatorAuth } from '../../auth/middleware'
import { settingsOf, type AppEnv, type Env } from '../../env'
import { ApiError } from '../../errors'

/** One client's rows, each query bound to the client id. */
const CLIENT_ROWS = {
  agents: `select id, logical_agent_id as logicalAgentId, instance_id as instanceId, status, agent_version as agentVersion,
      auto_terminate_enabled as autoTerminateEnabled, terminate_wait_seconds as terminateWaitSeconds, created_at as createdAt
    from agents where client_id = ?1`,
  instances: `select agent_id as agentId, instance_id as instanceId, status, mode, public_ip as publicIp, created_at as createdAt,
      terminated_at as terminatedAt
    from instances where client_id = ?1`,
  replicas: `select id, agent_id as agentId, instance_id as instanceId, status, created_at as createdAt
    from replicas where client_id = ?1`,
  commands: `select id, agent_id as agentId, command_type as commandType, status, terminate_wait_seconds as terminateWaitSeconds,
      created_at as createdAt, finished_at as finishedAt, expires_at as expiresAt
    from commands where client_id = ?1`,
  switches: `select id, agent_id as agentId, command_id as commandId, trigger, old_instance_id as oldInstanceId,
      new_instance_id as newInstanceId, received_at as receivedAt
    from switches where client_id = ?1`,
  events: `select agent_id as agentId, instance_id as instanceId, kind, action, received_at as receivedAt
    from events where client_id = ?1`,
  notifications: `select agent_id as agentId, kind, severity, created_at as createdAt, message
    from notifications where client_id = ?1`,
  segments: `select s.agent_id as agentId, s.instance_id as instanceId, s.role, s.mode, s.pool_id as poolId,
      s.instance_type as instanceType, s.region, s.started_at as startedAt, s.ended_at as endedAt,
      a.base_instance_type as baselineType
    from usage_segments s left join agents a on a.id = s.agent_id where s.client_id = ?1`,
} as const

/** Prices are the market's, whoever reported them (the ledger prices a client's usage with them). */
const MARKET_ROWS = {
  spotPrices: `select pool_id as poolId, observed_at as at, price from spot_prices`,
  onDemandPrices: `select instance_type as instanceType, region, observed_at as at, price from ondemand_prices`,
} as const

function isSoakReadsOn(env: Env): boolean {
  return settingsOf(env).soakReads
}

export const soakRows = new Hono<AppEnv>()

const soakReadsOn = createMiddleware<AppEnv>(async (c, next) => {
  if (!isSoakReadsOn(c.env)) throw new ApiError('NOT_FOUND', 'route not found')
  await next()
})

soakRows.get('/:clientId', soakReadsOn, operatorAuth, async (c) => {
  const clientId = c.req.param('clientId')
  const queries = [
    ...Object.entries(CLIENT_ROWS).map(
      ([name, sql]) => [name, c.env.DB.prepare(sql).bind(clientId)] as const,
    ),
    ...Object.entries(MARKET_ROWS).map(([name, sql]) => [name, c.env.DB.prepare(sql)] as const),
  ]
  const results = await c.env.DB.batch(queries.map(([, statement]) => statement))
  return c.json(Object.fromEntries(queries.map(([name], i) => [name, results[i]!.results])))
})
