/** Mounts the people-facing JSON API and the dashboard pages (one line in app.ts). */
import type { Hono } from 'hono'
import type { AppEnv } from '../env'
import { clientAdmin } from '../routes/admin/client-admin'
import { adminFleet } from '../routes/admin/fleet'
import { adminGrowth } from '../routes/admin/growth'
import { adminUsers } from '../routes/admin/users'
import { clientAgents } from '../routes/client/agents'
import { clientExports } from '../routes/client/exports'
import { clientInstances } from '../routes/client/instances'
import { me } from '../routes/client/me'
import { notificationRoutes } from '../routes/client/notifications'
import { clientReplicas } from '../routes/client/replicas'
import { clientReports } from '../routes/client/reports'
import { clientSettings } from '../routes/client/settings'
import { openApi } from './openapi/document'
import { pages } from './pages/router'

export function mountPeople(app: Hono<AppEnv>): void {
  app.route('/api/openapi.json', openApi)
  app.route('/api/admin/clients', adminGrowth)
  app.route('/api/admin/clients', clientAdmin)
  app.route('/api/admin/users', adminUsers)
  app.route('/api/admin', adminFleet)
  app.route('/api/me', me)
  app.route('/api/notifications', notificationRoutes)
  app.route('/api/client', clientAgents)
  app.route('/api/client', clientInstances)
  app.route('/api/client', clientExports)
  app.route('/api/client', clientSettings)
  app.route('/api/client', clientReplicas)
  app.route('/api/client', clientReports)
  app.route('/', pages)
}
