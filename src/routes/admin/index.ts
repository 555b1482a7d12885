/**
 * The operator's API (`/api/admin`): ADMIN_TOKEN, an admin's personal token or an admin session,
 * checked once here. `/clients/growth` is composed ahead of `/clients/{clientId}`, which would
 * otherwise take "growth" for a client id.
 */
import { operatorAuth } from '../../auth/middleware'
import type { AppEnv } from '../../env'
import { ADMIN_API, routeGroup } from '../group'
import { clientAdmin } from './client-admin'
import { adminClients } from './clients'
import { adminEngine } from './engine'
import { engineBacktests } from './engine-backtests'
import { adminFleet } from './fleet'
import { adminGrowth } from './growth'
import { adminUsers } from './users'

export const adminApi = routeGroup<AppEnv>(ADMIN_API)

adminApi.use(operatorAuth)
adminApi
  .route('/', adminGrowth)
  .route('/', adminClients)
  .route('/', clientAdmin)
  .route('/', adminEngine)
  .route('/', engineBacktests)
  .route('/', adminUsers)
  .route('/', adminFleet)
