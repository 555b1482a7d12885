/**
 * The agent API (`/api/agents`, agent-api.md): `register` authenticates itself (the token may be in
 * the body); every `/:agentId/...` route needs the client token and the client's own agent.
 */
import { Hono } from 'hono'
import { agentAuth } from '../../auth'
import type { AppEnv } from '../../env'
import { cleanup } from './cleanup'
import { commands } from './commands'
import { config } from './config'
import { engineRoutes } from './engine'
import { heartbeat } from './heartbeat'
import { ownAgent } from './context'
import { pricing } from './pricing'
import { register } from './register'
import { replicaRoutes } from './replicas'
import { signals } from './signals'
import { stream } from './stream'
import { switchReports } from './switches'

export const agentApi = new Hono<AppEnv>()

agentApi.route('/register', register)
// Heartbeats check the tenant in the agent's Durable Object (D1 only until it knows its owner).
agentApi.route('/:agentId', heartbeat)
agentApi.use('/:agentId/*', agentAuth, ownAgent)
agentApi.route('/:agentId', config)
agentApi.route('/:agentId', pricing)
agentApi.route('/:agentId', switchReports)
agentApi.route('/:agentId', signals)
agentApi.route('/:agentId', replicaRoutes)
agentApi.route('/:agentId', cleanup)
agentApi.route('/:agentId', engineRoutes)
agentApi.route('/:agentId', commands)
agentApi.route('/:agentId', stream)
