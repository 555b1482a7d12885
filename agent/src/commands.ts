/**
 * Command intake: commands arrive by the push socket or by polling; each is claimed for this instance
 * (the control plane lets only the first claim win), runs at most once per installation (ids persisted
 * in the state directory), one at a time, highest priority first. Commands for another instance are
 * ignored; a command interrupted by a restart is resumed from its persisted progress. Each step a
 * command records is reported (`running` with the step), which renews its lease at the control plane.
 * Once the agent retired on this instance (its workload moved), it runs nothing new: a command for
 * this instance is answered failed, one for any instance is left to the instance that runs it now.
 * An interruption notice abandons a switch of this instance that has not reported yet, and refuses
 * later ones: the instance ends within two minutes and the failover moves the workload (its
 * `promote_replica` waits behind the running command). A switch waits until the stateful start
 * (stateful/establish.ts) settled: it moves the volumes and interface that start restores and records;
 * so does `register_targets`: traffic comes to the replacement once its data is back.
 */
import type { Command } from '../../src/protocol'
import { INTERRUPTED, type ActionContext, type ActionResult } from './actions/context'
import { runCommand } from './actions/dispatch'
import type { StatefulStart } from './actions/stateful/establish'
import type { State } from './state'

export interface Intake {
  /** Offers a command (from the socket, a poll, or the state at start); duplicates are dropped. */
  offer(command: Command, via: 'socket' | 'poll' | 'resume'): void
  /** Resolves when no command is queued or running. */
  idle(): Promise<void>
  /** This instance is being interrupted: abandon its unreported switch, refuse any later one. */
  interrupt(reason: string): void
}

/** `stateful`: the agent's stateful start, which a switch waits for (absent: nothing to wait for). */
export function createIntake(ctx: ActionContext, stateful?: Pick<StatefulStart, 'settled'>): Intake {
  const { state, link, log, clock, self } = ctx
  const queue: Command[] = []
  /** Ids claimed, being claimed, queued or running in this process. */
  const known = new Set<string>()
  let running: Promise<void> | null = null
  /** The command running now, and how to abandon it. */
  let current: { command: Command; abandon: AbortController } | null = null
  /** Why this instance is being interrupted (no new switch then), or null. */
  let interruption: string | null = null

  const pump = () => {
    if (running) return
    running = runAll().finally(() => {
      running = null
      if (queue.length > 0 && !ctx.signal.aborted) pump()
    })
  }

  async function runAll() {
    while (queue.length > 0 && !ctx.signal.aborted) {
      // ISO times compare as strings; localeCompare would load ICU's collator (~3 MB resident) for nothing.
      queue.sort(
        (a, b) =>
          b.priority - a.priority || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0),
      )
      const command = queue.shift()!
      // A switch moves what the start restores; a replacement's registration waits for its data back.
      if ((command.command_type === 'switch' || command.command_type === 'register_targets') && stateful) {
        const from = clock.now()
        await settledOrAborted(stateful.settled(), ctx.signal)
        if (ctx.signal.aborted) return
        if (clock.now() > from)
          log.info('switch waited for the stateful start', { command_id: command.id, ms: clock.now() - from })
      }
      const retired = state.retiredReason(self.instanceId)
      if (retired !== null) {
        refuse(command, `the agent retired on ${self.instanceId} (${retired})`)
        continue
      }
      if (
        interruption !== null &&
        command.command_type === 'switch' &&
        !state.progressOf(command.id).reported
      ) {
        refuse(command, `${self.instanceId} is being interrupted (${interruption})`)
        continue
      }
      void link.running(command.id, self.instanceId)
      log.info('command started', { command_id: command.id, command_type: command.command_type })
      let result: ActionResult
      const abandon = new AbortController()
      current = { command, abandon }
      try {
        result = await runCommand(reportingSteps(command, abandon.signal), command)
      } catch (err) {
        result = {
          ok: false,
          code: 'Crashed',
          message: err instanceof Error ? err.message : String(err),
          retryable: false,
        }
      } finally {
        current = null
      }
      if (ctx.signal.aborted && !result.ok) {
        log.warn('command abandoned at shutdown; it resumes after restart', { command_id: command.id })
        return
      }
      const message = result.ok ? result.message : `${result.code}: ${result.message}`
      // A switch reports `executed` itself, before the old instance goes.
      if (!state.progressOf(command.id).reported) {
        link.report(`executed:${command.id}`, 'POST', `/commands/${command.id}/executed`, {
          success: result.ok,
          message,
        })
      }
      state.markExecuted(command.id, clock.now())
      log.info('command finished', { command_id: command.id, success: result.ok, message })
    }
  }

  /**
   * The context a command runs with: every step it records is also reported, renewing its lease; its
   * signal is the agent's stop or the command's abandonment (reason INTERRUPTED).
   */
  function reportingSteps(command: Command, abandoned: AbortSignal): ActionContext {
    const steps: State = {
      ...state,
      progress(id, facts) {
        state.progress(id, facts)
        if (id !== command.id) return
        const step = Object.entries(facts)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
          .slice(0, 200)
        void link.running(id, self.instanceId, step)
      },
    }
    return { ...ctx, state: steps, signal: AbortSignal.any([ctx.signal, abandoned]) }
  }

  /** Answers a command the agent will not run here (retired, or a switch of an interrupted instance): failed, never run. */
  function refuse(command: Command, why: string) {
    log.warn('command refused', { command_id: command.id, reason: why })
    link.report(`executed:${command.id}`, 'POST', `/commands/${command.id}/executed`, {
      success: false,
      message: `Refused: ${why}`,
    })
    state.markExecuted(command.id, clock.now())
  }

  function enqueue(command: Command, via: string) {
    state.startCommand(command, clock.now())
    log.info('command accepted', { command_id: command.id, command_type: command.command_type, via })
    queue.push(command)
    pump()
  }

  async function claimThenEnqueue(command: Command, via: string) {
    const claim = await link.claim(command.id, self.instanceId)
    if (claim.ok) return enqueue(command, via)
    if (claim.status === 0 || claim.status >= 500) {
      known.delete(command.id) // not decided: the next delivery tries again
      log.warn('command not claimed yet (control plane unreachable)', { command_id: command.id })
      return
    }
    log.info('command not ours to run', { command_id: command.id, status: claim.status, reason: claim.error })
  }

  return {
    offer(command, via) {
      if (command.instance_id !== null && command.instance_id !== self.instanceId) {
        log.debug('command for another instance ignored', {
          command_id: command.id,
          instance_id: command.instance_id,
        })
        return
      }
      if (state.isExecuted(command.id)) {
        // Delivered again: the control plane missed our answer. `executed` is idempotent there.
        if (!state.outbox().some((o) => o.key === `executed:${command.id}`)) {
          link.report(`executed:${command.id}`, 'POST', `/commands/${command.id}/executed`, {
            success: true,
            message: 'already executed',
          })
        }
        return
      }
      if (known.has(command.id)) return
      const retired = state.retiredReason(self.instanceId)
      if (retired !== null && via !== 'resume') {
        // The workload runs elsewhere now: a command for any instance is that one's to take.
        if (command.instance_id === self.instanceId)
          refuse(command, `the agent retired on ${self.instanceId} (${retired})`)
        else log.info('command left to the instance that runs the workload', { command_id: command.id })
        return
      }
      known.add(command.id)
      // A resumed command was claimed before the restart; its steps are idempotent.
      if (via === 'resume') return enqueue(command, via)
      // The control plane's time, not this host's (which may run minutes off): server-clock.ts.
      if (command.expires_at && Date.parse(command.expires_at) < link.serverNow()) {
        log.warn('expired command not run', { command_id: command.id, expires_at: command.expires_at })
        return
      }
      void claimThenEnqueue(command, via)
    },
    async idle() {
      while (running) await running
    },
    interrupt(reason) {
      if (interruption !== null) return
      interruption = reason
      const switching = current?.command.command_type === 'switch' ? current : null
      if (switching && !state.progressOf(switching.command.id).reported) {
        log.warn('interruption: the running switch is abandoned', {
          command_id: switching.command.id,
          reason,
        })
        switching.abandon.abort(INTERRUPTED)
      }
    },
  }
}

/** Resolves when `work` settles or `signal` aborts, whichever comes first. */
function settledOrAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
    void work.then(done)
  })
}
