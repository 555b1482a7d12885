/**
 * The stateful workloads' invariants (--stateful), pure over a snapshot; nothing is judged when the
 * soak ran no stateful workload:
 *   g  no volume is attached to two instances, nor a workload's seeded volume to another workload's
 *   h  no orphan volume or interface: SpotGuard-tagged or seeded for a workload, available for longer
 *      than the grace, not kept by policy (tag SpotGuardKeep=policy)
 *   i  after each planned switch of a stateful workload, the data the new instance starts from ends
 *      with the old instance's last write (the data volume followed, nothing lost, nothing stale)
 *   j  after each interruption switch, the writes lost (the old instance's last write minus the newest
 *      record the new instance starts from, by the records' own times) are at most the RPO
 * What the new instance starts from is read from the fake's content, the ground truth: the records
 * before its workload's first write on the volume holding that write (content is copied through
 * snapshots, so any restored volume shows it), else the volume attached at the device when it has not
 * written yet.
 */
import { factsOf, iso, type Divergence, type Facts } from './facts'
import type { D1Snapshot, D1Switch, Ec2Snapshot, SoakLog, WrittenRecord } from './snapshot'
import { GRACE_MS } from './windows'

/** The tag the soak puts on the data volume it seeds for a workload (its logical id). */
export const SEEDED_FOR = 'SoakWorkload'

export interface StatefulResult {
  divergences: Divergence[]
  orphanVolumes: string[]
  orphanInterfaces: string[]
}

export function checkStateful(ec2: Ec2Snapshot, d1: D1Snapshot, log: SoakLog): StatefulResult {
  if (Object.keys(log.stateful).length === 0)
    return { divergences: [], orphanVolumes: [], orphanInterfaces: [] }
  const f = factsOf(ec2, d1, log)
  checkAttachments(f)
  const orphans = checkOrphans(f)
  for (const s of d1.switches) checkSwitch(f, s)
  return { divergences: f.found, ...orphans }
}

/** The switches of stateful workloads D1 recorded (planned ones) and the notices the soak sent them. */
export function statefulCounts(d1: D1Snapshot, log: SoakLog): { switches: number; interruptions: number } {
  const workloadOf = new Map(d1.agents.map((a) => [a.id, a.logicalAgentId]))
  const isStateful = (workload: string | undefined) => workload !== undefined && workload in log.stateful
  return {
    switches: d1.switches.filter((s) => s.trigger !== 'interruption' && isStateful(workloadOf.get(s.agentId)))
      .length,
    interruptions: log.notices.filter((n) => isStateful(n.workload)).length,
  }
}

/** (g) */
function checkAttachments(f: Facts): void {
  const holders = new Map<string, Set<string>>()
  for (const v of f.ec2.volumes) {
    if (v.attachedTo === null) continue
    holders.set(v.volumeId, (holders.get(v.volumeId) ?? new Set()).add(v.attachedTo))
    const seededFor = v.tags[SEEDED_FOR]
    const holder = f.ec2ById.get(v.attachedTo)
    if (seededFor && holder && holder.workload !== seededFor)
      f.diverge(
        'g',
        seededFor,
        v.volumeId,
        `${v.volumeId} attached to ${v.attachedTo} of ${holder.workload}`,
        `the data volume of ${seededFor}`,
      )
  }
  for (const [volumeId, instances] of holders)
    if (instances.size > 1) {
      const volume = f.ec2.volumes.find((v) => v.volumeId === volumeId)!
      f.diverge(
        'g',
        workloadOfTags(f, volume.tags) ?? '?',
        volumeId,
        `${volumeId} attached to ${[...instances].join(' and ')}`,
        'one instance at most',
      )
    }
}

/** (h): answers the orphans found. */
function checkOrphans(f: Facts): { orphanVolumes: string[]; orphanInterfaces: string[] } {
  const isOrphan = (tags: Record<string, string>, availableSince: number | null) =>
    availableSince !== null && f.at - availableSince > GRACE_MS && tags.SpotGuardKeep !== 'policy'
  const orphanVolumes = f.ec2.volumes.filter(
    (v) => (v.tags.SpotGuardManaged === 'true' || v.tags[SEEDED_FOR]) && isOrphan(v.tags, v.availableSince),
  )
  const orphanInterfaces = f.ec2.interfaces.filter(
    (i) => i.tags.SpotGuardManaged === 'true' && isOrphan(i.tags, i.availableSince),
  )
  for (const v of orphanVolumes)
    f.diverge(
      'h',
      workloadOfTags(f, v.tags) ?? '?',
      v.volumeId,
      `${v.volumeId} (${v.az}) available since ${iso(v.availableSince)}, holds ${v.content.length} record(s)`,
      'no volume left behind',
    )
  for (const i of orphanInterfaces)
    f.diverge(
      'h',
      workloadOfTags(f, i.tags) ?? '?',
      i.eniId,
      `${i.eniId} detached since ${iso(i.availableSince)}`,
      'no interface left behind',
    )
  return {
    orphanVolumes: orphanVolumes.map((v) => v.volumeId),
    orphanInterfaces: orphanInterfaces.map((i) => i.eniId),
  }
}

/** (i) for a planned switch, (j) for an interruption switch, per device the old instance's workload wrote on. */
function checkSwitch(f: Facts, s: D1Switch): void {
  const workload = f.workloadOfAgent.get(s.agentId)
  if (!workload || !(workload in f.log.stateful) || !s.oldInstanceId || !s.newInstanceId) return
  if (!f.settled(s.receivedAt)) return
  const rpoMs = f.log.stateful[workload]! * 60_000
  for (const old of Object.values(f.log.writes)) {
    if (old.instanceId !== s.oldInstanceId) continue
    const start = startingContent(f, s.newInstanceId, old.device)
    const subject = `${s.id} ${old.device}`
    const oldSays = `${s.oldInstanceId} last wrote #${old.last.seq} at ${iso(old.last.at)}`
    const newSays = (from: WrittenRecord | undefined) =>
      start === null
        ? `no data volume at ${old.device} of ${s.newInstanceId}`
        : `${s.newInstanceId} starts at ${from ? `#${from.seq} (${iso(from.at)}, by ${from.instanceId})` : 'an empty volume'}`
    const last = start?.at(-1)
    if (s.trigger !== 'interruption') {
      if (!last || !sameRecord(last, old.last))
        f.diverge('i', workload, subject, newSays(last), `planned switch ${s.id}: ${oldSays}`)
      continue
    }
    const lostMs = last && last.seq >= old.last.seq ? 0 : old.last.at - (last?.at ?? Number.NEGATIVE_INFINITY)
    if (lostMs > rpoMs)
      f.diverge(
        'j',
        workload,
        subject,
        `${newSays(last)}: ${Number.isFinite(lostMs) ? `${Math.round(lostMs / 60_000)} min` : 'everything'} lost`,
        `interruption switch ${s.id}: ${oldSays}, RPO ${rpoMs / 60_000} min`,
      )
  }
}

/** The records the new instance's workload started from at `device`; null when it has no data volume there. */
function startingContent(f: Facts, instanceId: string, device: string): WrittenRecord[] | null {
  const first = f.log.writes[`${instanceId} ${device}`]?.first
  if (first) {
    for (const v of f.ec2.volumes) {
      const at = v.content.findIndex((r) => sameRecord(r, first))
      if (at >= 0) return v.content.slice(0, at)
    }
  }
  return f.ec2.volumes.find((v) => v.attachedTo === instanceId && v.device === device)?.content ?? null
}

const sameRecord = (a: WrittenRecord, b: WrittenRecord) =>
  a.seq === b.seq && a.instanceId === b.instanceId && a.data === b.data

/** The workload a volume or interface belongs to: the soak's seed tag, else SpotGuard's agent id tag. */
function workloadOfTags(f: Facts, tags: Record<string, string>): string | undefined {
  return tags[SEEDED_FOR] ?? f.workloadOfAgent.get(tags.SpotGuardAgentId ?? '')
}
