import { describe, expect, it } from 'vitest'
import { checkInvariants, duplicateLaunches, type Invariant } from '../../scripts/soak/invariants'
import type { D1Command, D1Switch } from '../../scripts/soak/snapshot'
import { ELASTIC_IP, HOUR, MINUTE, NOW, d1Agent, d1Instance, d1Replica, ec2Instance, healthy } from './world'

const invariantsOf = (result: ReturnType<typeof checkInvariants>): Invariant[] =>
  result.divergences.map((d) => d.invariant).sort()

function switchRow(
  oldId: string,
  newId: string,
  receivedAt: number,
  overrides: Partial<D1Switch> = {},
): D1Switch {
  return {
    id: `sw-${newId}`,
    agentId: 'agt-1',
    commandId: null,
    trigger: 'interruption',
    oldInstanceId: oldId,
    newInstanceId: newId,
    receivedAt,
    ...overrides,
  }
}

function command(id: string, createdAt: number, overrides: Partial<D1Command> = {}): D1Command {
  return {
    id,
    agentId: 'agt-1',
    commandType: 'switch',
    status: 'completed',
    terminateWaitSeconds: 300,
    createdAt,
    finishedAt: createdAt + 5 * MINUTE,
    expiresAt: null,
    ...overrides,
  }
}

/** agent-1 was interrupted 30 minutes ago on i-1; EC2 reclaimed it, i-2 (launched for the notice) runs and holds the address. */
function afterInterruption() {
  const w = healthy()
  const noticeAt = NOW - 30 * MINUTE
  w.log.notices.push({
    workload: 'agent-1',
    instanceId: 'i-1',
    sentAt: noticeAt,
    terminationAt: noticeAt + 2 * MINUTE,
  })
  w.ec2.instances = [
    ec2Instance('i-1', { state: 'terminated', stateSince: noticeAt + 3 * MINUTE }),
    ec2Instance('i-2', {
      launchTime: noticeAt + 30_000,
      holdsAddress: true,
      replicaTag: 'local-notice',
      launchKey: 'replica:local-notice',
    }),
  ]
  return { ...w, noticeAt }
}

describe('the soak checker', () => {
  it('finds nothing wrong with a workload whose one primary runs, holds its address and is the one D1 names', () => {
    const { ec2, d1, log } = healthy()
    expect(checkInvariants(ec2, d1, log)).toEqual({ divergences: [], orphans: [] })
  })

  it('finds the divergences of an interruption nothing promoted: the replica is the workload, the old instance stays active, no switch', () => {
    const { ec2, d1, log, noticeAt } = afterInterruption()
    d1.agents = [d1Agent({ instanceId: 'i-2' })]
    d1.instances = [d1Instance('i-1'), d1Instance('i-2', { createdAt: noticeAt + 3 * MINUTE })]
    d1.replicas = [d1Replica('rep-1', 'i-2', 'ready', noticeAt)]
    d1.notifications = [
      {
        agentId: 'agt-1',
        kind: 'interruption',
        severity: 'error',
        createdAt: noticeAt,
        message: 'no replica',
      },
    ]

    const result = checkInvariants(ec2, d1, log)

    expect(invariantsOf(result)).toEqual(['a', 'c', 'd'])
    expect(result.divergences.find((d) => d.invariant === 'a')).toMatchObject({
      ec2: 'running: i-2 (holds the address)',
      d1: 'agent on i-2; live replicas: i-2',
    })
    expect(result.divergences.find((d) => d.invariant === 'c')?.d1).toBe('no interruption switch recorded')
    expect(result.divergences.find((d) => d.invariant === 'd')).toMatchObject({
      subject: 'i-1',
      d1: 'active',
    })
  })

  it('accepts the same interruption recorded as one switch, the old instance ended and the replica promoted', () => {
    const { ec2, d1, log, noticeAt } = afterInterruption()
    d1.agents = [d1Agent({ instanceId: 'i-2' })]
    d1.instances = [
      d1Instance('i-1', { status: 'terminated', terminatedAt: noticeAt + 2 * MINUTE, publicIp: ELASTIC_IP }),
      d1Instance('i-2', { publicIp: ELASTIC_IP }),
    ]
    d1.replicas = [d1Replica('rep-1', 'i-2', 'promoted', noticeAt)]
    d1.switches = [switchRow('i-1', 'i-2', noticeAt + MINUTE)]

    expect(checkInvariants(ec2, d1, log).divergences).toEqual([])
  })

  it('counts two interruption switches for one notice, and accepts a notified failure when the workload could not move', () => {
    const twice = afterInterruption()
    twice.d1.agents = [d1Agent({ instanceId: 'i-2' })]
    twice.d1.instances = [
      d1Instance('i-1', { status: 'terminated', terminatedAt: twice.noticeAt }),
      d1Instance('i-2', { publicIp: ELASTIC_IP }),
    ]
    twice.d1.switches = [
      switchRow('i-1', 'i-2', twice.noticeAt),
      switchRow('i-1', 'i-3', twice.noticeAt, { id: 'sw-other' }),
    ]
    expect(invariantsOf(checkInvariants(twice.ec2, twice.d1, twice.log))).toEqual(['c'])

    const stuck = afterInterruption()
    stuck.ec2.instances = stuck.ec2.instances.filter((i) => i.instanceId === 'i-1')
    stuck.d1.instances = [d1Instance('i-1', { status: 'terminated', terminatedAt: stuck.noticeAt })]
    const noticeOnly = checkInvariants(stuck.ec2, stuck.d1, stuck.log).divergences.filter(
      (d) => d.invariant === 'c',
    )
    expect(noticeOnly.map((d) => d.d1)).toEqual(['no switch and no failure notified'])
    stuck.d1.notifications = [
      {
        agentId: 'agt-1',
        kind: 'switch_failed',
        severity: 'error',
        createdAt: stuck.noticeAt + MINUTE,
        message: 'no capacity',
      },
    ]
    expect(
      checkInvariants(stuck.ec2, stuck.d1, stuck.log).divergences.filter((d) => d.invariant === 'c'),
    ).toEqual([])
  })

  it('does not judge a notice before 10 minutes after its termination time', () => {
    const { ec2, d1, log } = healthy()
    log.notices.push({
      workload: 'agent-1',
      instanceId: 'i-1',
      sentAt: NOW - 11 * MINUTE,
      terminationAt: NOW - 9 * MINUTE,
    })
    expect(checkInvariants(ec2, d1, log).divergences.filter((d) => d.invariant === 'c')).toEqual([])
  })

  it('leaves a workload alone inside a switch window, and judges it once the terminate wait + 60 s has passed', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances = [
      ec2Instance('i-1'),
      ec2Instance('i-2', { launchTime: NOW - 20 * MINUTE, holdsAddress: true, launchKey: 'switch:cmd-1' }),
    ]
    d1.commands = [command('cmd-1', NOW - 25 * MINUTE, { status: 'running', finishedAt: null })]
    expect(checkInvariants(ec2, d1, log)).toEqual({ divergences: [], orphans: [] })

    // Switched 20 minutes ago with a 5-minute wait: the old instance should be gone by now.
    d1.commands = [command('cmd-1', NOW - 25 * MINUTE, { finishedAt: NOW - 20 * MINUTE })]
    d1.switches = [switchRow('i-1', 'i-2', NOW - 20 * MINUTE, { commandId: 'cmd-1', trigger: 'engine' })]
    d1.agents = [d1Agent({ instanceId: 'i-2' })]
    d1.instances.push(d1Instance('i-2'))
    const late = checkInvariants(ec2, d1, log)
    expect(invariantsOf(late)).toEqual(['a'])
    expect(late.orphans).toEqual(['i-1'])

    // The same old instance kept on purpose (auto-terminate off) is no orphan.
    d1.agents = [d1Agent({ instanceId: 'i-2', autoTerminateEnabled: false })]
    expect(checkInvariants(ec2, d1, log).orphans).toEqual([])
  })

  it('finds the primary without the Elastic IP, and an agent of D1 that is no workload of EC2', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances[0]!.holdsAddress = false
    d1.agents.push(d1Agent({ id: 'agt-ghost', logicalAgentId: 'i-0ghost', instanceId: 'i-1' }))
    const result = checkInvariants(ec2, d1, log)
    expect(result.divergences.map((d) => d.subject).sort()).toEqual(['address:i-1', 'ghost:i-0ghost'])
  })

  describe('the Elastic IP, where D1 says it is', () => {
    /**
     * A promotion 40 minutes ago of i-2, away from i-1, which EC2 still runs (an interruption whose
     * notice the soak did not send, announced for 5 minutes ahead): D1 says i-1 is terminating until then.
     */
    function promoted(version: string) {
      const w = healthy()
      w.ec2.instances = [
        ec2Instance('i-1', { holdsAddress: true }),
        ec2Instance('i-2', { launchTime: NOW - HOUR, replicaTag: 'rep-1', launchKey: 'replica:rep-1' }),
      ]
      w.d1.agents = [d1Agent({ instanceId: 'i-2', agentVersion: version })]
      w.d1.instances = [
        d1Instance('i-1', { status: 'terminating', terminatedAt: NOW + 5 * MINUTE, publicIp: ELASTIC_IP }),
        d1Instance('i-2', { createdAt: NOW - 40 * MINUTE, publicIp: '54.0.0.2' }),
      ]
      w.d1.replicas = [d1Replica('rep-1', 'i-2', 'promoted', NOW - HOUR)]
      w.d1.switches = [switchRow('i-1', 'i-2', NOW - 40 * MINUTE)]
      return w
    }
    const addressFindings = (w: ReturnType<typeof promoted>) =>
      checkInvariants(w.ec2, w.d1, w.log).divergences.map((d) => [d.invariant, d.subject, d.ec2, d.d1])

    it('accepts a 4.0.0 promotion that left the address on the old instance, then on none once EC2 ended it', () => {
      const w = promoted('4.0.0')
      expect(checkInvariants(w.ec2, w.d1, w.log)).toEqual({ divergences: [], orphans: [] })

      // EC2 ended i-1 at its announced time and released the address; D1 took it as ended then.
      w.ec2.instances[0] = ec2Instance('i-1', { state: 'terminated', stateSince: NOW - 10 * MINUTE })
      w.d1.instances[0]!.terminatedAt = NOW - 10 * MINUTE
      expect(addressFindings(w)).toEqual([])
    })

    it('finds the address where D1 does not say it is: D1 claiming the primary holds it', () => {
      const w = promoted('4.0.0')
      w.d1.instances[1]!.publicIp = ELASTIC_IP
      expect(addressFindings(w)).toEqual([
        [
          'a',
          'address:i-2',
          `the Elastic IP ${ELASTIC_IP} is on i-1`,
          'agent on i-2; live replicas: none; the Elastic IP on i-2',
        ],
      ])
    })

    it('finds a 5.x promotion whose address EC2 holds elsewhere, or on no instance', () => {
      const w = promoted('5.0.0')
      // address-moved recorded it on i-2, but EC2 has it on i-1 still.
      w.d1.instances[1]!.publicIp = ELASTIC_IP
      expect(addressFindings(w).map(([invariant, subject]) => [invariant, subject])).toEqual([
        ['a', 'address:i-2'],
      ])
      w.ec2.instances[0] = ec2Instance('i-1', { state: 'terminated', stateSince: NOW - 10 * MINUTE })
      w.d1.instances[0]!.terminatedAt = NOW - 10 * MINUTE
      expect(addressFindings(w)).toEqual([
        [
          'a',
          'address:i-2',
          `the Elastic IP ${ELASTIC_IP} is associated with no instance`,
          'agent on i-2; live replicas: none; the Elastic IP on i-2',
        ],
      ])
    })

    it('finds an address EC2 still holds once D1 says the instance that held it ended', () => {
      const w = promoted('4.0.0')
      // The address went to a standby replica (someone moved it), which D1 never heard of.
      w.ec2.instances.push(ec2Instance('i-9', { holdsAddress: true, replicaTag: 'rep-2' }))
      w.ec2.instances[0] = ec2Instance('i-1', { state: 'terminated', stateSince: NOW - 10 * MINUTE })
      w.d1.instances[0]!.terminatedAt = NOW - 10 * MINUTE
      w.d1.replicas.push(d1Replica('rep-2', 'i-9', 'ready'))
      expect(addressFindings(w)).toEqual([
        [
          'a',
          'address:i-2',
          `the Elastic IP ${ELASTIC_IP} is on i-9`,
          'agent on i-2; live replicas: i-9; the Elastic IP on no instance (it did not follow, and the instance that held it ended)',
        ],
      ])
    })
  })

  it('finds a running instance D1 does not track, once D1 has had 5 minutes to hear of it', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances.push(ec2Instance('i-9', { launchTime: NOW - 4 * MINUTE }))
    expect(checkInvariants(ec2, d1, log).divergences).toEqual([])
    ec2.instances[1]!.launchTime = NOW - 6 * MINUTE
    const result = checkInvariants(ec2, d1, log)
    expect(result.divergences.map((d) => [d.invariant, d.subject])).toEqual([
      ['a', 'i-1>i-1, i-9'],
      ['b', 'i-9'],
    ])
    expect(result.orphans).toEqual(['i-9'])
  })

  it('finds live replicas on a dead instance, on no instance, and stuck without one', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances.push(ec2Instance('i-7', { state: 'terminated', stateSince: NOW - HOUR }))
    d1.replicas = [
      d1Replica('rep-dead', 'i-7', 'ready'),
      d1Replica('rep-made-up', 'i-0made', 'syncing'),
      d1Replica('rep-stuck', null, 'launching', NOW - 31 * MINUTE),
      d1Replica('rep-new', null, 'launching', NOW - 29 * MINUTE),
    ]
    const result = checkInvariants(ec2, d1, log)
    expect(result.divergences.map((d) => [d.invariant, d.subject])).toEqual([
      ['b', 'replica:rep-dead'],
      ['b', 'replica:rep-made-up'],
      ['b', 'replica:rep-stuck'],
    ])
  })

  it("compares D1's instance statuses with EC2's, allowing 5 minutes and any Worker outage for D1 to hear", () => {
    const { ec2, d1, log } = healthy()
    ec2.instances.push(
      ec2Instance('i-old', { state: 'terminated', stateSince: NOW - 4 * MINUTE }),
      ec2Instance('i-up', { launchTime: NOW - HOUR }),
    )
    d1.instances.push(
      d1Instance('i-old'),
      d1Instance('i-up', { status: 'terminated', terminatedAt: NOW - 30 * MINUTE }),
      d1Instance('i-0invented'),
    )
    d1.replicas = [d1Replica('rep-1', 'i-up', 'ready')]
    expect(checkInvariants(ec2, d1, log).divergences.map((d) => [d.invariant, d.subject])).toEqual([
      ['d', 'i-up'],
      ['d', 'i-0invented'],
    ])

    ec2.instances[1]!.stateSince = NOW - 20 * MINUTE
    expect(checkInvariants(ec2, d1, log).divergences.map((d) => d.subject)).toContain('i-old')
    // Terminated while the Worker was down until 2 minutes ago: D1 could not have heard yet.
    log.outages.push([NOW - 30 * MINUTE, NOW - 2 * MINUTE])
    expect(checkInvariants(ec2, d1, log).divergences.map((d) => d.subject)).not.toContain('i-old')
  })

  it('takes an interrupted instance as terminating until its announced end, and never as terminated while EC2 runs it', () => {
    const { ec2, d1, log } = healthy()
    const endsAt = NOW + 90_000
    ec2.instances.push(ec2Instance('i-noticed', { launchTime: NOW - HOUR, terminateAt: endsAt }))
    d1.instances.push(d1Instance('i-noticed', { status: 'terminating', terminatedAt: endsAt }))
    // Only (d) here: the old instance's place in its workload is (a) and (b)'s.
    const subjects = () =>
      checkInvariants(ec2, d1, log)
        .divergences.filter((d) => d.invariant === 'd')
        .map((d) => [d.invariant, d.subject])
    expect(subjects()).toEqual([])
    // Terminated in D1 while EC2 still runs it (its notice pending): not true yet.
    d1.instances[1] = d1Instance('i-noticed', { status: 'terminated', terminatedAt: NOW - 6 * MINUTE })
    expect(subjects()).toEqual([['d', 'i-noticed']])
    // Past its announced end, terminating means terminated: EC2 must have ended it.
    d1.instances[1] = d1Instance('i-noticed', { status: 'terminating', terminatedAt: NOW - 6 * MINUTE })
    expect(subjects()).toEqual([['d', 'i-noticed']])
    ec2.instances[1] = ec2Instance('i-noticed', { state: 'terminated', stateSince: NOW - 6 * MINUTE })
    expect(subjects()).toEqual([])
  })

  it('takes an old host ending itself as terminating (no announced end) until EC2 ended it, then wants the end confirmed', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances.push(ec2Instance('i-old', { launchTime: NOW - HOUR }))
    d1.instances.push(d1Instance('i-old', { status: 'terminating', terminatedAt: null }))
    const subjects = () =>
      checkInvariants(ec2, d1, log)
        .divergences.filter((d) => d.invariant === 'd')
        .map((d) => [d.invariant, d.subject])
    expect(subjects()).toEqual([])
    ec2.instances[1] = ec2Instance('i-old', { state: 'terminated', stateSince: NOW - MINUTE })
    expect(subjects()).toEqual([])
    ec2.instances[1] = ec2Instance('i-old', { state: 'terminated', stateSince: NOW - 20 * MINUTE })
    expect(subjects()).toEqual([['d', 'i-old']])
  })

  it('finds a replica ended in D1 whose instance still runs', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances.push(ec2Instance('i-5', { launchTime: NOW - HOUR }))
    d1.instances.push(d1Instance('i-5'))
    d1.replicas = [d1Replica('rep-1', 'i-5', 'terminated')]
    expect(checkInvariants(ec2, d1, log).divergences.map((d) => [d.invariant, d.subject])).toContainEqual([
      'd',
      'replica:rep-1',
    ])
  })

  it('takes a replica being terminated as running (no orphan, no untracked instance) until EC2 ended it, then wants its end confirmed', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances.push(ec2Instance('i-5', { launchTime: NOW - HOUR, replicaTag: 'rep-1' }))
    d1.replicas = [d1Replica('rep-1', 'i-5', 'terminating')]
    expect(checkInvariants(ec2, d1, log)).toEqual({ divergences: [], orphans: [] })
    ec2.instances[1] = ec2Instance('i-5', {
      launchTime: NOW - HOUR,
      state: 'terminated',
      stateSince: NOW - MINUTE,
    })
    expect(checkInvariants(ec2, d1, log).divergences).toEqual([])
    ec2.instances[1]!.stateSince = NOW - 20 * MINUTE
    expect(checkInvariants(ec2, d1, log).divergences.map((d) => [d.invariant, d.subject, d.d1])).toEqual([
      ['d', 'replica:rep-1', 'replica rep-1 terminating, end never confirmed'],
    ])
  })

  it('finds two launches for one command, never the repeat of one launch', () => {
    const { ec2, d1, log } = healthy()
    ec2.instances.push(
      ec2Instance('i-2', { launchKey: 'switch:cmd-1', reservationId: 'r-1' }),
      ec2Instance('i-3', { launchKey: 'switch:cmd-1', reservationId: 'r-2' }),
      ec2Instance('i-4', { launchKey: 'replica:rep-1', reservationId: 'r-3' }),
    )
    d1.instances.push(d1Instance('i-2'), d1Instance('i-3'), d1Instance('i-4'))
    const f = checkInvariants(ec2, d1, log).divergences.filter((d) => d.invariant === 'f')
    expect(f.map((d) => d.subject)).toEqual(['launch:switch:cmd-1'])
    expect(duplicateLaunches(ec2)).toBe(1)
  })
})
