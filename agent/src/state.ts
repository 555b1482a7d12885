/**
 * The agent's state directory: what must survive a restart so that no command runs twice and no
 * report is lost. One JSON file, replaced atomically and durably on every change (durable-write.ts:
 * temp file synced, renamed, directory synced). The file says whose it is: an instance launched from
 * an image of another (a switch's AMI, a replica's) boots with a copy of that instance's file, which
 * `claim` recognises and resets, so nothing of the other instance (a running switch, undelivered
 * reports, its retirement) is ever resumed or sent from this one.
 */
import { mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import * as z from 'zod'
import { Command } from '../../src/protocol'
import { replaceDurably } from './durable-write'

/** Executed ids are kept this long (commands expire after 30 min; a week is ample). */
const EXECUTED_RETENTION_MS = 7 * 24 * 3600_000

const OutboxItem = z.object({
  /** Items with the same key replace each other (only the newest pricing report matters). */
  key: z.string(),
  method: z.enum(['POST', 'PUT']),
  path: z.string(),
  body: z.unknown(),
  queuedAt: z.number(),
})
export type OutboxItem = z.infer<typeof OutboxItem>

const Inflight = z.object({
  command: Command,
  startedAt: z.number(),
  /** Step facts of a running action (image id, new instance id...), so a restart resumes it. */
  progress: z.record(z.string(), z.string()),
})
export type Inflight = z.infer<typeof Inflight>

const StateFile = z.object({
  version: z.literal(1),
  /** Command id → epoch ms it finished. */
  executed: z.record(z.string(), z.number()),
  inflight: z.record(z.string(), Inflight),
  outbox: z.array(OutboxItem),
  /** Set when the workload left this instance (switch, promotion, uninstall): never register again here. */
  retired: z.object({ instanceId: z.string(), reason: z.string(), at: z.number() }).nullable().default(null),
  /** The instance this state belongs to (null: written before the agent recorded it). */
  instanceId: z.string().nullable().default(null),
  /** The logical id this agent registered with on that instance. */
  logicalAgentId: z.string().nullable().default(null),
  /** The agent token the control plane issued to that instance (verified registration); a secret. */
  agentToken: z.string().nullable().default(null),
})
type StateFile = z.infer<typeof StateFile>

/** What `claim` found: the state was this instance's, or a copy of another instance's (now reset). */
export type Claim =
  | { kind: 'own' }
  | { kind: 'adopted' }
  | { kind: 'cloned'; from: string; dropped: { inflight: number; outbox: number } }

export interface State {
  /**
   * Makes the state this instance's. A state of another instance (a copy through an image) is reset:
   * executed ids, in-flight commands, undelivered reports, the retired marker, the logical id and the
   * agent token (bound to the other instance).
   */
  claim(instanceId: string): Claim
  /** The logical id registered from this instance (null before the first registration here). */
  logicalAgentId(): string | null
  rememberLogicalAgentId(id: string): void
  /** The agent token issued to this instance (null: none yet, or registered unverified). */
  agentToken(): string | null
  rememberAgentToken(token: string): void
  isExecuted(commandId: string): boolean
  markExecuted(commandId: string, at: number): void
  inflight(): Inflight[]
  startCommand(command: Command, at: number): void
  /** Records a step of a running command. */
  progress(commandId: string, facts: Record<string, string>): void
  progressOf(commandId: string): Record<string, string>
  outbox(): OutboxItem[]
  /** Queues a report; one with the same key is replaced (a newer version of the same report). */
  enqueue(item: OutboxItem): void
  /** Removes the report with `key`; with `delivered`, only if it was not replaced since (its newer version stays). */
  dequeue(key: string, delivered?: OutboxItem): void
  retire(instanceId: string, reason: string, at: number): void
  /** Why the agent retired on this instance, or null. */
  retiredReason(instanceId: string): string | null
}

const empty = (): StateFile => ({
  version: 1,
  executed: {},
  inflight: {},
  outbox: [],
  retired: null,
  instanceId: null,
  logicalAgentId: null,
  agentToken: null,
})

/** The state in `dir` (created if missing); a corrupt file is kept aside and replaced. */
export function openState(dir: string, now: () => number): State {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'state.json')
  let data = empty()
  try {
    data = StateFile.parse(JSON.parse(readFileSync(file, 'utf8')))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      renameSync(file, `${file}.corrupt-${now()}`)
    }
  }
  const save = () => replaceDurably(file, JSON.stringify(data))
  return memoryBacked(data, save, now)
}

/**
 * The logical id registered from `instanceId`, read without opening (or creating) the state: null when
 * there is no state, it belongs to another instance, or it can't be read (--check, install.sh).
 */
export function registeredLogicalId(dir: string, instanceId: string): string | null {
  try {
    const data = StateFile.parse(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')))
    return data.instanceId === instanceId ? data.logicalAgentId : null
  } catch {
    return null
  }
}

/** A state that is not persisted (tests, --check). */
export function memoryState(now: () => number = Date.now): State {
  return memoryBacked(empty(), () => {}, now)
}

function memoryBacked(data: StateFile, save: () => void, now: () => number): State {
  return {
    claim(instanceId) {
      const owner = data.instanceId
      if (owner === instanceId) return { kind: 'own' }
      if (owner === null) {
        // Written before the owner was recorded, most likely here; a command aimed at another
        // instance can't be this one's to resume.
        for (const [id, entry] of Object.entries(data.inflight)) {
          if (entry.command.instance_id && entry.command.instance_id !== instanceId) delete data.inflight[id]
        }
        data.instanceId = instanceId
        save()
        return { kind: 'adopted' }
      }
      const dropped = { inflight: Object.keys(data.inflight).length, outbox: data.outbox.length }
      Object.assign(data, empty(), { instanceId })
      save()
      return { kind: 'cloned', from: owner, dropped }
    },
    logicalAgentId: () => data.logicalAgentId,
    rememberLogicalAgentId(id) {
      if (data.logicalAgentId === id) return
      data.logicalAgentId = id
      save()
    },
    agentToken: () => data.agentToken,
    rememberAgentToken(token) {
      if (data.agentToken === token) return
      data.agentToken = token
      save()
    },
    isExecuted: (id) => id in data.executed,
    markExecuted(id, at) {
      data.executed[id] = at
      delete data.inflight[id]
      for (const [old, when] of Object.entries(data.executed)) {
        if (now() - when > EXECUTED_RETENTION_MS) delete data.executed[old]
      }
      save()
    },
    inflight: () => Object.values(data.inflight),
    startCommand(command, at) {
      data.inflight[command.id] ??= { command, startedAt: at, progress: {} }
      save()
    },
    progress(id, facts) {
      const entry = data.inflight[id]
      if (!entry) return
      Object.assign(entry.progress, facts)
      save()
    },
    progressOf: (id) => ({ ...(data.inflight[id]?.progress ?? {}) }),
    outbox: () => [...data.outbox],
    enqueue(item) {
      const i = data.outbox.findIndex((o) => o.key === item.key)
      if (i >= 0) data.outbox[i] = item
      else data.outbox.push(item)
      save()
    },
    dequeue(key, delivered) {
      data.outbox = data.outbox.filter((o) => o.key !== key || (delivered !== undefined && o !== delivered))
      save()
    },
    retire(instanceId, reason, at) {
      data.retired = { instanceId, reason, at }
      save()
    },
    retiredReason: (instanceId) => (data.retired?.instanceId === instanceId ? data.retired.reason : null),
  }
}
