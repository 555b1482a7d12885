/**
 * The people-facing client API (`/api/client`): a signed-in person (operator token, personal token or
 * session), authenticated once here; each route scopes what it reads and writes to that person's client.
 */
import { personAuth } from '../../auth/middleware'
import type { AppEnv } from '../../env'
import { CLIENT_API, routeGroup } from '../group'
import { clientAgents } from './agents'
import { clientCleanupReports } from './cleanup-reports'
import { clientWorkload } from './workload'
import { clientExports } from './exports'
import { forceSwitch } from './force-switch'
import { clientInstances } from './instances'
import { replicaActions } from './replicas'
import { clientReports } from './reports'
import { clientRiskWeightRoutes } from './risk-weights'
import { clientSavings } from './savings'
import { clientSettings } from './settings'

export const clientApi = routeGroup<AppEnv>(CLIENT_API)

clientApi.use(personAuth)
clientApi
  .route('/', forceSwitch)
  .route('/', clientSavings)
  .route('/', clientAgents)
  .route('/', clientCleanupReports)
  .route('/', clientWorkload)
  .route('/', clientInstances)
  .route('/', clientExports)
  .route('/', clientSettings)
  .route('/', replicaActions)
  .route('/', clientReports)
  .route('/', clientRiskWeightRoutes)
