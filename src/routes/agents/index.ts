/**
 * The agent API (`/api/agents`, agent-api.md): `register` authenticates itself (the token may be in
 * the body); every `/{agentId}/...` route needs the client token and, but for the heartbeat (checked
 * in the agent's Durable Object), the client's own agent, loaded by its route's middleware
 * (context.ts; a deleted one only on its command routes). Every answer carries the control plane's
 * time (SERVER_TIME_HEADER): the agent checks a command's `expires_at` against it.
 */
import { clock } from '../../clock'
import type { AppEnv } from '../../env'
import { SERVER_TIME_HEADER } from '../../protocol'
import { AGENT_API, routeGroup } from '../group'
import { backupImage } from './backup-image'
import { cleanup } from './cleanup'
import { commands } from './commands'
import { config } from './config'
import { engineRoutes } from './engine'
import { heartbeat } from './heartbeat'
import { inventory } from './inventory'
import { placementScores } from './placement-scores'
import { pricing } from './pricing'
import { register } from './register'
import { replicaRoutes } from './replicas'
import { signals } from './signals'
import { stream } from './stream'
import { switchReports } from './switches'

export const agentApi = routeGroup<AppEnv>(AGENT_API)

// Set before the handler, so errors carry it too; a WebSocket upgrade's own response does not.
agentApi.use('*', async (c, next) => {
  c.header(SERVER_TIME_HEADER, new Date(clock.now()).toISOString())
  await next()
})

agentApi
  .route('/', register)
  .route('/', heartbeat)
  .route('/', commands)
  .route('/', stream)
  .route('/', config)
  .route('/', pricing)
  .route('/', placementScores)
  .route('/', switchReports)
  .route('/', signals)
  .route('/', replicaRoutes)
  .route('/', cleanup)
  .route('/', backupImage)
  .route('/', inventory)
  .route('/', engineRoutes)
