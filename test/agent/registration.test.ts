import { describe, expect, it } from 'vitest'
import type { Identity } from '../../agent/src/imds'
import { Link } from '../../agent/src/link'
import { memoryLog } from '../../agent/src/log'
import { register, registrationBody } from '../../agent/src/registration'
import { memoryState } from '../../agent/src/state'
import { instantClock } from './support/clock'
import { recordingHttp } from './support/http'

const self: Identity = {
  instanceId: 'i-0replica000000001',
  instanceType: 't3.medium',
  region: 'us-east-1',
  az: 'us-east-1b',
  amiId: 'ami-1',
  privateIp: '10.0.2.4',
  publicIp: null,
  hostname: null,
  mode: 'spot',
}

function world(answers: Array<{ status: number; body?: unknown }>) {
  const clock = instantClock()
  const log = memoryLog()
  let n = 0
  const http = recordingHttp([() => answers[Math.min(n++, answers.length - 1)]])
  const link = new Link({
    http,
    state: memoryState(clock.now),
    clock,
    log,
    serverUrl: 'http://cp',
    token: 'tok-123456789',
    signal: new AbortController().signal,
  })
  return { clock, log, http, link }
}

const standby = {
  status: 409,
  body: {
    error: 'standby replica: not promoted yet',
    action: 'standby',
    replica_id: 'rep-1',
    retry_after_seconds: 7,
  },
}

describe('registration of a replica', () => {
  it('stays passive while answered standby, asking again at the interval given, then registers once promoted', async () => {
    const w = world([standby, standby, standby, { status: 200, body: { agent_id: 'agt-1' } }])
    const body = registrationBody(self, 'web-1', 'rep-1')
    const outcome = await register(w, body, new AbortController().signal)
    expect(outcome).toEqual({ kind: 'registered', body: { agent_id: 'agt-1' } })
    // Only registrations went out, each with the replica id; nothing else (no heartbeat, no poll).
    expect(
      w.http.calls.map((c) => [c.method, c.path, (c.body as { replica_id?: string }).replica_id]),
    ).toEqual(Array.from({ length: 4 }, () => ['POST', '/api/agents/register', 'rep-1']))
    expect(w.clock.slept).toEqual([7_000, 7_000, 7_000])
    // Said once; each later refusal at debug level only.
    expect(w.log.lines.filter((l) => l.msg.startsWith('standby replica')).map((l) => l.level)).toEqual([
      'info',
      'debug',
      'debug',
    ])
    expect(w.link.agentId).toBe('agt-1')
  })

  it('stops for good when the replica ended', async () => {
    const w = world([
      standby,
      { status: 410, body: { action: 'replica_ended', replica_id: 'rep-1', replica_status: 'terminated' } },
    ])
    expect(await register(w, registrationBody(self, 'web-1', 'rep-1'), new AbortController().signal)).toEqual(
      { kind: 'replica_ended', replicaId: 'rep-1' },
    )
    expect(w.http.calls).toHaveLength(2)
  })

  it('keeps retrying with backoff on any other refusal, a deleted agent included', async () => {
    const w = world([
      { status: 0 },
      { status: 410, body: { error: 'agent was deleted', code: 'GONE' } },
      { status: 200, body: { agent_id: 'agt-1' } },
    ])
    expect(
      await register(w, registrationBody(self, 'web-1', null), new AbortController().signal),
    ).toMatchObject({ kind: 'registered' })
    expect(w.clock.slept).toEqual([1_000, 2_000])
    expect(JSON.stringify(w.http.calls[0]!.body)).not.toContain('replica_id')
    expect(
      w.log.lines.some((l) => l.msg === 'this agent was deleted in the dashboard; re-enable it there'),
    ).toBe(true)
  })

  it('ends with the uninstall a deleted agent is answered, the link set to its agent id', async () => {
    const w = world([
      { status: 410, body: { code: 'GONE', action: 'uninstall', agent_id: 'agt-9', command_id: 'cmd-u' } },
    ])
    expect(await register(w, registrationBody(self, 'web-1', null), new AbortController().signal)).toEqual({
      kind: 'deleted',
      agentId: 'agt-9',
      commandId: 'cmd-u',
    })
    expect(w.http.calls).toHaveLength(1)
    expect(w.link.agentId).toBe('agt-9')
  })
})
