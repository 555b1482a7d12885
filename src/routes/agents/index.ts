/**
 * The agent API (`/api/agents`, agent-api.md): `register` authenticates itself (the token may be in
 * the body); every `/{agentId}/...` route needs the client token and, but for the heartbeat (checked
 * in the agent's Durable Object), the client's own agent, loaded by its route's middleware
 * (context.ts; a deleted one only on its command routes).
 */
import type { AppEnv } from '../../env'
import { AGENT_API, routeGroup } from '../group'
import { cleanup } from './cleanup'
import { commands } from './commands'
import { config } from './config'
import { engineRoutes } from './engine'
import { heartbeat } from './heartbeat'
import { pricing } from './pricing'
import { register } from './register'
import { replicaRoutes } from './replicas'
import { signals } from './signals'
import { stream } from './stream'
import { switchReports } from './switches'

export const agentApi = routeGroup<AppEnv>(AGENT_API)

agentApi
  .route('/', register)
  .route('/', heartbeat)
  .route('/', commands)
  .route('/', stream)
  .route('/', config)
  .route('/', pricing)
  .route('/', switchReports)
  .route('/', signals)
  .route('/', replicaRoutes)
  .route('/', cleanup)
  .route('/', engineRoutes)
