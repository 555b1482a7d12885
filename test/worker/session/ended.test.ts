import { describe, expect, it } from 'vitest'
import { instanceEndOutcome } from '../../../src/flows/switch/switched-away'
import { endedPromotion } from '../../../src/flows/replicas/promotion-outcome'
import { endedTermination } from '../../../src/flows/replicas/termination-outcome'
import { endedCommand } from '../../../src/flows/ended-command'
import { createCommand } from '../../../src/session/queue'
import type { NewCommand, QueuedCommand } from '../../../src/session/types'

const T0 = Date.UTC(2026, 0, 1)

function command(input: Partial<NewCommand>, end: Partial<QueuedCommand> = {}): QueuedCommand {
  const created = createCommand(
    {
      clientId: 'c1',
      agentId: 'a1',
      agentVersion: '5.0.0',
      instanceId: 'i-new',
      commandType: 'terminate_replica',
      priority: 50,
      source: 'manual',
      payload: { replica_id: 'rep-1', replica_instance_id: 'i-rep' },
      ...input,
    },
    'cmd-1',
    T0,
  )
  if (!created.ok) throw new Error(created.message)
  return { ...created.command, ...end }
}

const finished = { finishedAt: T0 + 60_000, claimedBy: 'i-new', message: 'done' }

describe("an ended command's summary", () => {
  it('is null while the command is open, and says how it ended once it is final', () => {
    expect(endedCommand(command({}))).toBeNull()
    expect(endedCommand(command({}, { status: 'running', startedAt: T0 }))).toBeNull()
    expect(endedCommand(command({}, { status: 'failed', ...finished }))).toEqual({
      commandId: 'cmd-1',
      commandType: 'terminate_replica',
      status: 'failed',
      message: 'done',
      finishedAt: T0 + 60_000,
      instanceId: 'i-new',
      claimedBy: 'i-new',
      priority: 50,
      payload: { replica_id: 'rep-1', replica_instance_id: 'i-rep' },
    })
  })

  it('is what each follow-up reads, each for its own command type', () => {
    const termination = command({}, { status: 'expired', ...finished })
    expect(endedTermination(termination)).toMatchObject({ status: 'expired', replicaId: 'rep-1' })
    expect(endedTermination(command({}, { status: 'completed', ...finished }))).toMatchObject({
      status: 'completed',
    })
    expect(endedTermination(command({}))).toBeNull()
    expect(endedPromotion(termination)).toBeNull()
    expect(instanceEndOutcome(termination)).toBeNull()

    const promotion = command(
      {
        commandType: 'promote_replica',
        payload: { replica_id: 'rep-1', replica_instance_id: 'i-rep', old_instance_id: 'i-old' },
      },
      { status: 'completed', ...finished },
    )
    expect(endedPromotion(promotion)).toMatchObject({ status: 'completed', commandId: 'cmd-1' })

    const confirm = command(
      { commandType: 'terminate_instance', payload: { target_instance_id: 'i-old', reason: 'confirm' } },
      { status: 'completed', ...finished },
    )
    expect(instanceEndOutcome(confirm)).toEqual({
      instanceId: 'i-old',
      at: T0 + 60_000,
      ended: true,
      message: 'done',
    })
    expect(instanceEndOutcome({ ...confirm, status: 'cancelled' })).toBeNull()
  })
})
