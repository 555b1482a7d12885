/**
 * The uninstall command: the agent stops for good on this instance (retired, so a restart does not
 * register again), its systemd unit is disabled and its unit, environment and program files removed
 * (install.sh's layout). The state directory stays: it holds the report that says the command ran.
 * In dry-run every step is logged instead; a process not started from the installed program (the local
 * fleet, a manual run) only stops.
 */
import { fail, messageOf, ok, type ActionContext, type ActionResult } from './context'

export const UNIT = 'spotguard-agent.service'
/** What install.sh wrote. The unit allows the agent to write exactly these (ReadWritePaths). */
export const INSTALLED_PATHS = [
  '/etc/systemd/system/spotguard-agent.service',
  '/etc/spot-optimizer/agent.env',
  '/opt/spotguard',
]

type Step = { what: string; run(): Promise<void> }

export async function runUninstall(ctx: ActionContext): Promise<ActionResult> {
  const { host, log } = ctx
  if (!host.installed) {
    ctx.retire('uninstall requested')
    return ok(
      'agent stopped for good; not run from the installed unit, so nothing on this machine was removed',
    )
  }
  const steps: Step[] = [
    // Not `disable --now`: stopping the unit would kill this process before it reports the command.
    { what: `systemctl disable ${UNIT}`, run: () => host.run('systemctl', ['disable', UNIT]) },
    ...INSTALLED_PATHS.map((path) => ({ what: `remove ${path}`, run: () => host.remove(path) })),
    { what: 'systemctl daemon-reload', run: () => host.run('systemctl', ['daemon-reload']) },
  ]
  const failed: string[] = []
  for (const step of steps) {
    if (ctx.config.dryRun) {
      log.info('dry run: uninstall would', { step: step.what })
      continue
    }
    try {
      await step.run()
      log.info('uninstall', { step: step.what })
    } catch (err) {
      // The other steps still run: a half-removed agent is worse than one with a leftover file.
      log.error('uninstall step failed', { step: step.what, error: messageOf(err) })
      failed.push(`${step.what}: ${messageOf(err)}`)
    }
  }
  ctx.retire('uninstall requested')
  if (failed.length > 0)
    return fail('UninstallIncomplete', `agent stopped for good, but: ${failed.join('; ')}`)
  return ok(
    ctx.config.dryRun
      ? 'dry run: uninstall logged, agent stopped for good'
      : 'agent uninstalled: unit disabled, files removed, stopped for good',
  )
}
