/** The dashboard's page routes: sign-in pages, the admin console under /admin, each client's portal under /c/:clientId. */
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { requirePerson } from '../../auth/middleware'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { renderError } from '../../render-error'
import { Document } from '../ui/layout'
import { adminEnginePage } from './admin-engine'
import { adminFleetPages } from './admin-fleet'
import { adminOpsPages } from './admin-ops'
import { authPages } from './auth-pages'
import { pageAuth } from './context'
import { portalAgent } from './portal-agent'
import { portalFleet } from './portal-fleet'
import { portalHistory } from './portal-history'
import { portalInstances } from './portal-instances'
import { portalActivity } from './portal-replicas'
import { portalSwitch } from './portal-switch'
import { accountPage, portalSettings } from './portal-settings'

function ErrorPage(props: { status: number; message: string }) {
  return (
    <Document title={String(props.status)}>
      <div class="login">
        <h1>
          {props.status === 404 ? 'Not found' : props.status === 403 ? 'Not allowed' : 'Something went wrong'}
        </h1>
        <p class="muted">{props.message}</p>
        <a href="/">Back to the dashboard</a>
      </div>
    </Document>
  )
}

export const pages = new Hono<AppEnv>()
pages.onError((err, c) => {
  if (err instanceof ApiError)
    return c.html(<ErrorPage status={err.status} message={err.message} />, err.status)
  renderError(err, c)
  return c.html(<ErrorPage status={500} message="An internal error was logged." />, 500)
})

// Pages are never framed or sniffed; the inline script and style are ours (no third-party content).
pages.use(secureHeaders({ referrerPolicy: 'same-origin' }))
pages.route('/', authPages)
pages.use('/admin', pageAuth)
pages.use('/admin/*', pageAuth)
pages.use('/c/*', pageAuth)
pages.use('/account', pageAuth)

pages.get('/', pageAuth, (c) => {
  const person = requirePerson(c)
  return c.redirect(person.kind === 'admin' ? '/admin' : `/c/${person.clientId}`)
})

/** Admin pages: a client user gets the portal-style 404 (the console's existence is not theirs to see). */
const adminOnly = new Hono<AppEnv>()
adminOnly.use(async (c, next) => {
  if (requirePerson(c).kind !== 'admin') throw new ApiError('NOT_FOUND', 'page not found')
  await next()
})
adminOnly.route('/', adminFleetPages)
adminOnly.route('/', adminOpsPages)
adminOnly.route('/', adminEnginePage)
pages.route('/admin', adminOnly)

pages.route('/c/:clientId', portalFleet)
pages.route('/c/:clientId', portalInstances)
pages.route('/c/:clientId', portalHistory)
pages.route('/c/:clientId', portalSwitch)
pages.route('/c/:clientId', portalAgent)
pages.route('/c/:clientId', portalActivity)
pages.route('/c/:clientId', portalSettings)
pages.route('/', accountPage)
