/**
 * An emergency replacement carries its own switch report: the interrupted host's outbox is no delivery
 * guarantee (EC2 ends the host at the notice's time, queued reports and all), so the launch tags the
 * replacement with what the report needs beyond the replacement itself, and the replacement's agent
 * sends the same report (same outbox key) once it registered. The control plane takes a repeat as a
 * no-op (the same old → new switch), so both hosts may deliver it.
 * Tag values stay far within EC2's limits (256 characters, 50 tags per resource).
 */
import * as z from 'zod'
import { backoffMs, iso } from '../clock'
import { describeInstance, type InstanceFacts, type Tags } from '../ec2-operations'
import { messageOf, type ActionContext } from './context'

/** Every key of the set starts so: a later launch from the replacement does not inherit them (launch.ts). */
export const EMERGENCY_TAG_PREFIX = 'SpotGuardEmergency'
const K = {
  notice: `${EMERGENCY_TAG_PREFIX}Notice`,
  detectedAt: `${EMERGENCY_TAG_PREFIX}DetectedAt`,
  oldEndsAt: `${EMERGENCY_TAG_PREFIX}OldEndsAt`,
  oldAz: `${EMERGENCY_TAG_PREFIX}OldAz`,
  oldImage: `${EMERGENCY_TAG_PREFIX}OldImage`,
  oldMode: `${EMERGENCY_TAG_PREFIX}OldMode`,
  oldSpot: `${EMERGENCY_TAG_PREFIX}OldSpot`,
  newSpot: `${EMERGENCY_TAG_PREFIX}NewSpot`,
  imageSource: `${EMERGENCY_TAG_PREFIX}ImageSource`,
  trafficAt: `${EMERGENCY_TAG_PREFIX}TrafficAt`,
  publicIp: `${EMERGENCY_TAG_PREFIX}PublicIp`,
} as const
/** Reads of the replacement's own tags before giving up (its launcher's report may still land). */
const READ_ATTEMPTS = 3
/** How the replica id of an agent's own emergency launch starts (`local-<notice id>[-<attempt>]`). */
export const LOCAL_REPLICA_PREFIX = 'local-'
/** The interrupted instance (set on every replica SpotGuard launches, replica.ts). */
const PARENT_TAG = 'ParentInstance'

/** What an emergency switch report says beyond the replacement itself. */
export interface EmergencyFacts {
  noticeId: string
  /** Epoch ms the notice was detected (the switch's start). */
  detectedAt: number
  /** Epoch ms AWS's `terminate` notice ends the old instance; null for another action or no time. */
  oldEndsAt: number | null
  old: { instanceId: string; az: string; amiId: string | null; mode: 'spot' | 'ondemand' }
  prices: { oldSpot: number | null; newSpot: number | null }
  imageSource: 'spotguard_ami' | 'launch_ami'
}

/** The tags that let the replacement's agent report the switch (ParentInstance is set by the launch). */
export function emergencyTags(facts: EmergencyFacts): Tags {
  const tags: Tags = {
    [K.notice]: facts.noticeId,
    [K.detectedAt]: iso(facts.detectedAt),
    [K.oldAz]: facts.old.az,
    [K.oldMode]: facts.old.mode,
    [K.imageSource]: facts.imageSource,
  }
  if (facts.oldEndsAt !== null) tags[K.oldEndsAt] = iso(facts.oldEndsAt)
  if (facts.old.amiId) tags[K.oldImage] = facts.old.amiId
  if (facts.prices.oldSpot !== null) tags[K.oldSpot] = String(facts.prices.oldSpot)
  if (facts.prices.newSpot !== null) tags[K.newSpot] = String(facts.prices.newSpot)
  return tags
}

/** The Elastic IP moved onto the replacement: when (epoch ms), and its address. */
export type Moved = { at: number; publicIp: string | null }

/**
 * Added by the launcher once the Elastic IP moved (CreateTags on the replacement): the report's
 * traffic moment, which the replacement could not tell otherwise.
 */
export function movedTags(moved: Moved): Tags {
  return moved.publicIp
    ? { [K.trafficAt]: iso(moved.at), [K.publicIp]: moved.publicIp }
    : { [K.trafficAt]: iso(moved.at) }
}

const time = z
  .string()
  .refine((s) => Number.isFinite(Date.parse(s)))
  .transform((s) => Date.parse(s))
const price = z.coerce.number().nonnegative().finite()
const Tagged = z.object({
  [K.notice]: z.string().min(1).max(100),
  [K.detectedAt]: time,
  [K.oldEndsAt]: time.optional(),
  [K.oldAz]: z.string().min(1),
  [K.oldImage]: z.string().min(1).optional(),
  [K.oldMode]: z.enum(['spot', 'ondemand']),
  [K.oldSpot]: price.optional(),
  [K.newSpot]: price.optional(),
  [K.imageSource]: z.enum(['spotguard_ami', 'launch_ami']),
  [K.trafficAt]: time.optional(),
  [K.publicIp]: z.string().min(1).max(64).optional(),
  [PARENT_TAG]: z.string().regex(/^i-[0-9a-f]{8,17}$/),
})

/** What the tags carry; null when the instance is no emergency replacement (or its tags are partial). */
export function factsOfTags(tags: Tags): { facts: EmergencyFacts; moved: Moved | null } | null {
  const parsed = Tagged.safeParse(tags)
  if (!parsed.success) return null
  const t = parsed.data
  const trafficAt = t[K.trafficAt]
  const moved = trafficAt === undefined ? null : { at: trafficAt, publicIp: t[K.publicIp] ?? null }
  const facts: EmergencyFacts = {
    noticeId: t[K.notice],
    detectedAt: t[K.detectedAt],
    oldEndsAt: t[K.oldEndsAt] ?? null,
    old: { instanceId: t[PARENT_TAG], az: t[K.oldAz], amiId: t[K.oldImage] ?? null, mode: t[K.oldMode] },
    prices: { oldSpot: t[K.oldSpot] ?? null, newSpot: t[K.newSpot] ?? null },
    imageSource: t[K.imageSource],
  }
  return { facts, moved }
}

/** The outbox key of the switch report of the replacement launched for the notice `noticeId`. */
export const emergencyReportKey = (noticeId: string) => `emergency-switch:${noticeId}`

/** The replacement as the report names it. */
export interface Replacement {
  instanceId: string
  instanceType: string
  region: string
  az: string
  imageId: string
  mode: 'spot' | 'ondemand'
  /** Epoch ms RunInstances answered (EC2's launch time, read on the replacement). */
  launchedAt: number | null
}

/** The switch-report body (agent-api.md) of an emergency replacement, from either host. */
export function emergencySwitchReport(facts: EmergencyFacts, replacement: Replacement, moved: Moved | null) {
  const { old } = facts
  return {
    trigger: 'interruption',
    old_instance: {
      instance_id: old.instanceId,
      // The replacement keeps the type, in the same region (emergency.ts).
      instance_type: replacement.instanceType,
      region: replacement.region,
      az: old.az,
      ami_id: old.amiId,
      mode: old.mode,
      pool_id: old.mode === 'spot' ? `${replacement.instanceType}.${old.az}` : null,
    },
    new_instance: {
      instance_id: replacement.instanceId,
      instance_type: replacement.instanceType,
      region: replacement.region,
      az: replacement.az,
      ami_id: replacement.imageId,
      mode: replacement.mode,
      pool_id: replacement.mode === 'spot' ? `${replacement.instanceType}.${replacement.az}` : null,
      public_ip: moved?.publicIp ?? null,
    },
    snapshot: { used: facts.imageSource === 'spotguard_ami', ami_id: replacement.imageId },
    prices: { on_demand: null, old_spot: facts.prices.oldSpot, new_spot: facts.prices.newSpot },
    timing: {
      switch_initiated_at: iso(facts.detectedAt),
      new_instance_launched_at: replacement.launchedAt === null ? null : iso(replacement.launchedAt),
      new_instance_ready_at: null,
      // The Elastic IP moved to the replacement; null without one, or when it could not move.
      traffic_switched_at: moved === null ? null : iso(moved.at),
      // A `terminate` notice is AWS's own word that the instance ends then: the old agent goes with
      // its host and cannot confirm it later, so the report carries it.
      old_instance_terminated_at: facts.oldEndsAt === null ? null : iso(facts.oldEndsAt),
    },
  }
}

/**
 * On a registered agent whose instance is an emergency replacement (its tags say so): queues the
 * switch report its launcher may never have delivered. Read failures are logged: the launcher's own
 * report may still land.
 */
export async function reportOwnEmergencyLaunch(ctx: ActionContext): Promise<void> {
  const { self, log, clock, signal } = ctx
  let me: InstanceFacts | null = null
  for (let attempt = 0; ; attempt++) {
    try {
      me = await describeInstance(ctx.ec2, self.instanceId)
      break
    } catch (err) {
      if (attempt + 1 >= READ_ATTEMPTS || signal.aborted) {
        log.warn('could not read this instance from EC2: its emergency switch may go unreported', {
          error: messageOf(err),
        })
        return
      }
      await clock.sleep(backoffMs(attempt, 1_000, 4_000), signal)
    }
  }
  const tagged = me ? factsOfTags(me.tags) : null
  if (!me || !tagged) return
  const { facts, moved } = tagged
  const key = emergencyReportKey(facts.noticeId)
  const replacement: Replacement = {
    instanceId: me.instanceId,
    instanceType: me.instanceType,
    region: self.region,
    az: me.az,
    imageId: me.imageId ?? self.amiId ?? '',
    mode: me.mode,
    launchedAt: me.launchTime,
  }
  ctx.link.report(key, 'POST', '/switch-report', emergencySwitchReport(facts, replacement, moved))
  log.info('this instance is an emergency replacement: its switch report is queued', {
    replaced: facts.old.instanceId,
    report: key,
  })
}
