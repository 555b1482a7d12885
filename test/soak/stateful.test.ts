import { describe, expect, it } from 'vitest'
import { checkStateful, SEEDED_FOR, statefulCounts } from '../../scripts/soak/stateful'
import type { D1Switch, Ec2Volume, WrittenRecord } from '../../scripts/soak/snapshot'
import { HOUR, MINUTE, NOW, d1Instance, ec2Instance, healthy } from './world'

const DEVICE = '/dev/sdf'

/** `count` records written by `instanceId`'s workload a minute apart, numbered from `fromSeq`, the last at `lastAt`. */
function records(instanceId: string, fromSeq: number, count: number, lastAt: number): WrittenRecord[] {
  return Array.from({ length: count }, (_, n) => ({
    seq: fromSeq + n,
    at: lastAt - (count - 1 - n) * MINUTE,
    instanceId,
    data: `${instanceId} ${DEVICE} #${fromSeq + n}`,
  }))
}

function volume(volumeId: string, overrides: Partial<Ec2Volume> = {}): Ec2Volume {
  return {
    volumeId,
    az: 'us-east-1a',
    state: 'in-use',
    attachedTo: null,
    device: null,
    createdAt: NOW - 6 * HOUR,
    tags: { [SEEDED_FOR]: 'agent-1' },
    availableSince: null,
    content: [],
    ...overrides,
  }
}

const SWITCH_AT = NOW - 30 * MINUTE

function switchRow(trigger: string): D1Switch {
  return {
    id: 'sw-1',
    agentId: 'agt-1',
    commandId: 'cmd-1',
    trigger,
    oldInstanceId: 'i-1',
    newInstanceId: 'i-2',
    receivedAt: SWITCH_AT,
  }
}

/**
 * agent-1 (stateful, RPO 15 min) switched from i-1 to i-2 30 minutes ago; i-1 wrote #1..#60 (its last
 * a minute before the switch), i-2 has written since on `newVolume`, whose first records are what it
 * started from. i-1's old volume is wherever `oldVolume` says.
 */
function switched(trigger: string, started: WrittenRecord[], oldVolume: Partial<Ec2Volume> = {}) {
  const w = healthy()
  const oldWrites = records('i-1', 1, 60, SWITCH_AT - MINUTE)
  const nextSeq = (started.at(-1)?.seq ?? 0) + 1
  const newWrites = records('i-2', nextSeq, 25, NOW - MINUTE)
  w.ec2.instances = [
    ec2Instance('i-1', { state: 'terminated', stateSince: SWITCH_AT + MINUTE }),
    ec2Instance('i-2', { launchTime: SWITCH_AT - 5 * MINUTE, holdsAddress: true }),
  ]
  w.d1.agents[0]!.instanceId = 'i-2'
  w.d1.instances = [d1Instance('i-1', { status: 'terminated' }), d1Instance('i-2')]
  w.d1.switches = [switchRow(trigger)]
  w.log.stateful = { 'agent-1': 15 }
  w.log.writes = {
    [`i-1 ${DEVICE}`]: {
      workload: 'agent-1',
      instanceId: 'i-1',
      device: DEVICE,
      first: oldWrites[0]!,
      last: oldWrites.at(-1)!,
    },
    [`i-2 ${DEVICE}`]: {
      workload: 'agent-1',
      instanceId: 'i-2',
      device: DEVICE,
      first: newWrites[0]!,
      last: newWrites.at(-1)!,
    },
  }
  w.ec2.volumes = [
    volume('vol-new', {
      attachedTo: 'i-2',
      device: DEVICE,
      tags: { SpotGuardManaged: 'true', SpotGuardAgentId: 'agt-1' },
      content: [...started, ...newWrites],
    }),
    volume('vol-old', { content: oldWrites, ...oldVolume }),
  ]
  return { ...w, oldWrites }
}

const found = (result: ReturnType<typeof checkStateful>) =>
  result.divergences.map((d) => `${d.invariant} ${d.subject}`).sort()

describe("the soak checker's stateful invariants", () => {
  it('judges nothing when the soak ran no stateful workload, whatever EC2 holds', () => {
    const w = switched('price', [], { state: 'available', attachedTo: null, availableSince: NOW - 2 * HOUR })
    w.log.stateful = {}
    expect(checkStateful(w.ec2, w.d1, w.log)).toEqual({
      divergences: [],
      orphanVolumes: [],
      orphanInterfaces: [],
    })
  })

  it('passes a planned switch whose data volume moved: the new instance starts from the old one’s last write', () => {
    // The same volume, detached from i-1 and attached to i-2: it is vol-new, and i-1's volume is gone.
    const { ec2, d1, log, oldWrites } = switched('price', [])
    ec2.volumes = [{ ...ec2.volumes[0]!, content: [...oldWrites, ...ec2.volumes[0]!.content] }]
    expect(checkStateful(ec2, d1, log)).toEqual({ divergences: [], orphanVolumes: [], orphanInterfaces: [] })
  })

  it('finds a planned switch that left the data volume behind: the new instance starts empty and the old volume is an orphan', () => {
    const w = switched('price', [], { state: 'available', attachedTo: null, availableSince: SWITCH_AT })
    const result = checkStateful(w.ec2, w.d1, w.log)
    expect(found(result)).toEqual(['h vol-old', `i sw-1 ${DEVICE}`])
    expect(result.orphanVolumes).toEqual(['vol-old'])
    const mismatch = result.divergences.find((d) => d.invariant === 'i')!
    expect(mismatch.ec2).toContain('i-2 starts at an empty volume')
    expect(mismatch.d1).toContain('i-1 last wrote #60')
  })

  it('finds a planned switch whose new instance started from a stale copy (a snapshot older than the last write)', () => {
    const w = switched('price', records('i-1', 1, 50, SWITCH_AT - 11 * MINUTE), {
      state: 'available',
      availableSince: SWITCH_AT,
      tags: { [SEEDED_FOR]: 'agent-1', SpotGuardKeep: 'policy' },
    })
    const result = checkStateful(w.ec2, w.d1, w.log)
    // The old volume is kept by policy: no orphan, but the data is 10 writes short.
    expect(found(result)).toEqual([`i sw-1 ${DEVICE}`])
    expect(result.divergences[0]!.ec2).toContain('i-2 starts at #50')
  })

  it('allows an interruption to lose at most the RPO, and finds one that lost more', () => {
    // Restored from a snapshot 10 minutes older than the last write: within the 15-minute RPO.
    const within = switched('interruption', records('i-1', 1, 50, SWITCH_AT - 11 * MINUTE))
    within.ec2.volumes.pop()
    expect(checkStateful(within.ec2, within.d1, within.log).divergences).toEqual([])
    // 40 minutes older: beyond it.
    const beyond = switched('interruption', records('i-1', 1, 20, SWITCH_AT - 41 * MINUTE))
    beyond.ec2.volumes.pop()
    const result = checkStateful(beyond.ec2, beyond.d1, beyond.log)
    expect(found(result)).toEqual([`j sw-1 ${DEVICE}`])
    expect(result.divergences[0]!.ec2).toContain('40 min lost')
    expect(result.divergences[0]!.d1).toContain('RPO 15 min')
  })

  it('waits for a switch and a detached volume to settle before judging them', () => {
    const w = switched('price', [], {
      state: 'available',
      attachedTo: null,
      availableSince: NOW - 2 * MINUTE,
    })
    w.d1.switches[0]!.receivedAt = NOW - 2 * MINUTE
    expect(checkStateful(w.ec2, w.d1, w.log).divergences).toEqual([])
  })

  it("finds a workload's data volume attached to another workload's instance, and an orphan SpotGuard interface", () => {
    const { ec2, d1, log, oldWrites } = switched('price', [])
    ec2.volumes = [{ ...ec2.volumes[0]!, content: [...oldWrites, ...ec2.volumes[0]!.content] }]
    ec2.instances.push(ec2Instance('i-9', { workload: 'agent-2' }))
    ec2.volumes.push(volume('vol-stray', { attachedTo: 'i-9', device: '/dev/sdg' }))
    ec2.interfaces = [
      { eniId: 'eni-1', attachedTo: 'i-2', tags: { SpotGuardManaged: 'true' }, availableSince: null },
      { eniId: 'eni-2', attachedTo: null, tags: { SpotGuardManaged: 'true' }, availableSince: NOW - HOUR },
      { eniId: 'eni-3', attachedTo: null, tags: {}, availableSince: NOW - HOUR },
    ]
    const result = checkStateful(ec2, d1, log)
    expect(found(result)).toEqual(['g vol-stray', 'h eni-2'])
    expect(result.orphanInterfaces).toEqual(['eni-2'])
  })

  it("counts the stateful workloads' planned switches and the notices they got", () => {
    const w = switched('interruption', [])
    w.d1.switches.push(
      { ...switchRow('price'), id: 'sw-2' },
      { ...switchRow('price'), id: 'sw-3', agentId: 'agt-2' },
    )
    w.log.notices = [
      { workload: 'agent-1', instanceId: 'i-1', sentAt: SWITCH_AT, terminationAt: SWITCH_AT + 2 * MINUTE },
      { workload: 'agent-2', instanceId: 'i-9', sentAt: SWITCH_AT, terminationAt: SWITCH_AT + 2 * MINUTE },
    ]
    expect(statefulCounts(w.d1, w.log)).toEqual({ switches: 1, interruptions: 1 })
  })
})
