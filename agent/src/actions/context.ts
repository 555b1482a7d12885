/** What every action gets, and what it answers (ok, or a typed failure saying whether a retry may help). */
import { createHash } from 'node:crypto'
import type { AgentConfig } from '../../../src/protocol'
import type { Clock } from '../clock'
import type { Config } from '../config'
import type { Ec2 } from '../ec2-transport'
import type { Elbv2 } from '../elbv2'
import type { Host } from '../host'
import type { Identity } from '../imds'
import type { Link } from '../link'
import type { Log } from '../log'
import type { State } from '../state'

export interface ActionContext {
  ec2: Ec2
  /** Target groups: drained before a switch and on a notice (drain.ts). */
  elbv2: Elbv2
  /** The machine itself (systemd, files, hooks): the uninstall command and the drain touch it. */
  host: Host
  link: Link
  clock: Clock
  log: Log
  state: State
  config: Config
  /** This instance, as IMDS described it at start (region already reconciled). */
  self: Identity
  logicalAgentId: string
  /** The newest settings from the control plane (null before the first answer). */
  agentConfig(): AgentConfig | null
  /** Replica ids this process launched or is launching (the poller lists `launching` until the PUT lands). */
  replicasUnderway: Set<string>
  /**
   * While this instance answers an interruption notice of a stateful workload (notices.ts sets `of`):
   * the tags every replica launched meanwhile carries, so whichever replaces it (the control plane's
   * next attempt after a capacity refusal too) takes the workload's data back (stateful/restore.ts).
   */
  replacementTags: { of: ((imageSource: 'spotguard_ami' | 'launch_ami') => Record<string, string>) | null }
  /** The agent stops acting for its logical id (its workload moved to another instance). */
  retire(reason: string): void
  /** The agent stopping, or (inside a command) the command abandoned: reason INTERRUPTED. */
  signal: AbortSignal
}

/** The abort reason of a command abandoned because its instance is being interrupted. */
export const INTERRUPTED = 'interrupted'

export type ActionResult =
  { ok: true; message: string } | { ok: false; code: string; message: string; retryable: boolean }

export const ok = (message: string): ActionResult => ({ ok: true, message })
export const fail = (code: string, message: string, retryable = false): ActionResult => ({
  ok: false,
  code,
  message,
  retryable,
})

/** An idempotency token for RunInstances (≤ 64 ASCII chars), the same for the same purpose and key. */
export function clientToken(purpose: string, key: string): string {
  return `sg-${createHash('sha256').update(`${purpose}:${key}`).digest('hex').slice(0, 48)}`
}

/** `t3.medium.us-east-1b` → type and AZ (the AZ is the text after the last dot). */
export function parsePool(poolId: string): { instanceType: string; az: string } | null {
  const i = poolId.lastIndexOf('.')
  if (i <= 0 || i === poolId.length - 1) return null
  return { instanceType: poolId.slice(0, i), az: poolId.slice(i + 1) }
}

/** Marks a periodic backup AMI (backup-image.ts); a switch's carries `SpotGuardCommandId` instead. */
export const BACKUP_TAG = 'SpotGuardBackup'

/** AMI name of agent-api.md: SpotOptimizer-<instance id>-<YYYYmmdd-HHMMSS> (UTC). */
export function amiName(instanceId: string, at: number): string {
  const s = new Date(at).toISOString()
  return `SpotOptimizer-${instanceId}-${s.slice(0, 10).replaceAll('-', '')}-${s.slice(11, 19).replaceAll(':', '')}`
}

/** The message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
