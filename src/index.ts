/** Worker entry: the app, the scheduled handler and the Durable Object class. */
import { buildApp } from './app'
import { clock, configureClock } from './clock'
import { settingsOf, type Env } from './env'
import { runScheduled } from './scheduled'

export { AgentSession } from './session/agent-session'

const app = buildApp()

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    configureClock(settingsOf(env).simClock)
    ctx.waitUntil(runScheduled(controller.cron, env, clock.now()))
  },
} satisfies ExportedHandler<Env>
