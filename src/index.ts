/** Worker entry: the app, the scheduled handler and the Durable Object class. */
import { buildApp } from './app'
import type { Env } from './env'

export { AgentSession } from './session/agent-session'

const app = buildApp()

export default {
  fetch: app.fetch,
  async scheduled(_controller, _env, _ctx) {},
} satisfies ExportedHandler<Env>
