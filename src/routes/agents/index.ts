/**
 * The agent API (`/api/agents`, agent-api.md): `register` authenticates itself (the token may be in
 * the body); every `/:agentId/...` route needs the client token and the client's own agent (a deleted
 * one only on its command routes).
 */
import { Hono } from 'hono'
import { agentAuth } from '../../auth/middleware'
import type { AppEnv } from '../../env'
import { cleanup } from './cleanup'
import { commands } from './commands'
import { config } from './config'
import { engineRoutes } from './engine'
import { heartbeat } from './heartbeat'
import { ownAgent, ownAgentOrDeleted } from './context'
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
// A deleted agent still reaches its command routes, to receive and report its `uninstall`: its object
// serves it nothing else. Registered first, so the general middleware below never runs for them.
for (const path of ['pending-commands', 'commands/*', 'mark-command-executed', 'stream']) {
  agentApi.use(`/:agentId/${path}`, agentAuth, ownAgentOrDeleted)
}
agentApi.route('/:agentId', commands)
agentApi.route('/:agentId', stream)
agentApi.use('/:agentId/*', agentAuth, ownAgent)
agentApi.route('/:agentId', config)
agentApi.route('/:agentId', pricing)
agentApi.route('/:agentId', switchReports)
agentApi.route('/:agentId', signals)
agentApi.route('/:agentId', replicaRoutes)
agentApi.route('/:agentId', cleanup)
agentApi.route('/:agentId', engineRoutes)
