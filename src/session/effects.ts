/**
 * What follows a change in an agent's object: its D1 writes (command history, liveness) and its one
 * alarm, re-armed from the earliest due time. Holds no state but the chain that keeps D1 syncs in order.
 */
import { clock } from '../clock'
import { runBatch } from '../db/batch'
import type { Database } from '../db/client'
import { newId } from '../ids'
import { log } from '../log'
import { SOCKET_HEARTBEAT_MS } from '../protocol'
import { commandHistory, livenessWrites } from './history'
import { livenessDeadline, withPings, type LivenessStep } from './liveness'
import * as queue from './queue'
import { countAlarmSet } from './request-meter'
import * as store from './store'

/** Retry delay for history that failed to reach D1, ms. */
const SYNC_RETRY_MS = 30_000
/** Queued liveness writes copied per batch. */
const MAX_LIVENESS_PER_SYNC = 20

/**
 * What re-arms the alarm: the alarm itself (it is spent), an HTTP or a socket heartbeat (the next
 * one's time is known), any other change.
 */
export type ScheduleCause = 'alarm' | 'heartbeat' | 'socket heartbeat' | 'change'

/**
 * The alarm is moved later only when it would ring within this, ms (moving it is a storage write):
 * before the next sign of life that can move it is due, with 30 s for that one to be late. An HTTP
 * heartbeat every 30 s moves it every third time; a socket heartbeat every SOCKET_HEARTBEAT_MS (90 s)
 * each time, since an alarm left where it was would ring before the next (pings cannot move it: they
 * never wake the object). An alarm that rings early only recomputes, but is a billed request.
 */
const MOVE_LATER_WITHIN_MS: Record<Exclude<ScheduleCause, 'alarm'>, number> = {
  heartbeat: 60_000,
  'socket heartbeat': SOCKET_HEARTBEAT_MS + 30_000,
  change: 60_000,
}

/** What an alarm is armed for: a command's expiry or lease, the silence deadline, a D1 retry. */
export type AlarmReason = 'command' | 'offline' | 'sync'

export class SessionEffects {
  /** Serialises D1 syncs so an older state never lands after a newer one. */
  private syncing: Promise<void> = Promise.resolve()

  constructor(
    private readonly sql: SqlStorage,
    private readonly db: Database,
    private readonly storage: DurableObjectStorage,
    /**
     * The newest sign of life not in the stored liveness (automatic pings and unchanged heartbeats on
     * the open sockets, an unchanged HTTP heartbeat kept in memory), epoch ms; null: none.
     */
    private readonly heardUnstored: () => number | null,
  ) {}

  /** Stores the next liveness state and, when it calls for a D1 write, queues it; true when it does. */
  liveness(step: LivenessStep, now: number): boolean {
    store.writeLiveness(this.sql, step.next)
    if (!step.write && !step.notify) return false
    store.addPendingLiveness(this.sql, {
      write: step.write,
      notify: step.notify,
      at: now,
      notificationId: newId('ntf'),
    })
    return true
  }

  /** Copies what changed to D1 (if anything did) and re-arms the alarm. */
  async afterChange(now: number): Promise<void> {
    if (store.hasUnsynced(this.sql)) await this.sync()
    await this.schedule(now)
  }

  /**
   * Copies queued liveness writes and changed commands to D1 in one batch; what fails stays queued
   * and the alarm retries it.
   */
  sync(): Promise<void> {
    const run = this.syncing.then(async () => {
      const owner = store.readOwner(this.sql)
      // After a long D1 outage the oldest writes go first, a bounded number per batch.
      const liveness = store.readPendingLiveness(this.sql).slice(0, MAX_LIVENESS_PER_SYNC)
      const pending = store.unsyncedCommands(this.sql)
      if (!owner || (pending.length === 0 && liveness.length === 0)) return
      try {
        await runBatch(this.db, [
          ...liveness.flatMap((write) => livenessWrites(this.db, owner, write)),
          ...commandHistory(
            this.db,
            owner,
            pending.map((p) => p.command),
          ),
        ])
        store.dropPendingLiveness(this.sql, liveness.length)
        store.markSynced(this.sql, pending)
      } catch (error) {
        log.error({ message: 'agent history sync failed', agent_id: owner.agentId, error: String(error) })
      }
    })
    this.syncing = run.catch(() => undefined)
    return run
  }

  /**
   * Arms the one alarm at the earliest due time: an expiry, a lease, the liveness deadline (what the
   * sockets heard counted), a D1 retry. Moved later too, once it is near (MOVE_LATER_WITHIN_MS): the
   * heartbeats of a live agent keep pushing the deadline past the alarm, which then never rings while
   * the agent is heard (docs/capacity.md, Liveness). The input gate holds from reading the state to
   * setting the alarm, so a stale due time never lands. The alarm handler sets it without asking: the
   * alarm running is spent. True when it set the alarm.
   */
  async schedule(now: number, cause: ScheduleCause = 'change'): Promise<boolean> {
    const dueTimes = this.dueTimes(now)
    const waiting = (Object.entries(dueTimes) as [AlarmReason, number | null][]).filter(
      (entry): entry is [AlarmReason, number] => entry[1] !== null,
    )
    if (waiting.length === 0) return false
    const [reason, earliest] = waiting.reduce((first, entry) => (entry[1] < first[1] ? entry : first))
    // Alarms run on the runtime's clock: a simulated due time is set at the real moment it comes.
    const due = clock.realTimeOf(earliest)
    const current = cause === 'alarm' ? null : await this.storage.getAlarm()
    // With D1 work waiting it only moves earlier: each wake would otherwise push its retry back.
    const isMovedLater =
      cause !== 'alarm' &&
      current !== null &&
      due > current &&
      dueTimes.sync === null &&
      clock.timeOfReal(current) - now < MOVE_LATER_WITHIN_MS[cause]
    if (current === null || due < current || isMovedLater) {
      await this.storage.setAlarm(due)
      countAlarmSet(reason)
      return true
    }
    return false
  }

  /**
   * What a ringing alarm is for: the silence deadline passed, a command due, D1 work to retry; else
   * `early` (signs of life since it was set moved the deadline past it, and it only re-arms).
   */
  dueNow(now: number): AlarmReason | 'early' {
    const { command, offline, sync } = this.dueTimes(now)
    if (offline !== null && offline <= now) return 'offline'
    if (command !== null && command <= now) return 'command'
    return sync !== null ? 'sync' : 'early'
  }

  /** The next due time of each kind, epoch ms; null: nothing of that kind waits. */
  private dueTimes(now: number): Record<AlarmReason, number | null> {
    const { liveness, pendingLiveness } = store.readAgentFacts(this.sql)
    const { open, hasUnsynced } = store.readQueueDue(this.sql)
    return {
      command: queue.nextQueueDue(open),
      offline: livenessDeadline(withPings(liveness, this.heardUnstored())),
      sync: hasUnsynced || pendingLiveness.length > 0 ? now + SYNC_RETRY_MS : null,
    }
  }
}
