import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openState } from '../../agent/src/state'
import type { Command } from '../../src/protocol'

const command: Command = {
  id: 'cmd-1',
  command_type: 'switch',
  instance_id: 'i-0123456789abcdef0',
  target_mode: 'spot',
  target_pool_id: 't3.medium.us-east-1b',
  priority: 75,
  terminate_wait_seconds: 300,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: null,
}

describe('openState', () => {
  it('keeps executed ids, in-flight commands and their progress across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-state-'))
    const a = openState(dir, () => 1000)
    a.startCommand(command, 1000)
    a.progress('cmd-1', { imageId: 'ami-1' })
    a.markExecuted('cmd-0', 900)
    a.enqueue({ key: 'executed:cmd-0', method: 'POST', path: '/x', body: { success: true }, queuedAt: 900 })

    const b = openState(dir, () => 2000)
    expect(b.isExecuted('cmd-0')).toBe(true)
    expect(b.isExecuted('cmd-1')).toBe(false)
    expect(b.inflight().map((i) => i.command.id)).toEqual(['cmd-1'])
    expect(b.progressOf('cmd-1')).toEqual({ imageId: 'ami-1' })
    expect(b.outbox().map((o) => o.key)).toEqual(['executed:cmd-0'])
  })

  it('a finished command leaves the in-flight list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-state-'))
    const s = openState(dir, () => 1000)
    s.startCommand(command, 1000)
    s.markExecuted('cmd-1', 1100)
    expect(openState(dir, () => 1200).inflight()).toEqual([])
  })

  it('replaces a queued report with the same key (only the newest pricing report matters)', () => {
    const s = openState(mkdtempSync(join(tmpdir(), 'sg-state-')), () => 0)
    s.enqueue({ key: 'executed:a', method: 'POST', path: '/a', body: 1, queuedAt: 0 })
    s.enqueue({ key: 'pricing', method: 'POST', path: '/p', body: 1, queuedAt: 0 })
    s.enqueue({ key: 'pricing', method: 'POST', path: '/p', body: 2, queuedAt: 1 })
    expect(s.outbox().map((o) => [o.key, o.body])).toEqual([
      ['executed:a', 1],
      ['pricing', 2],
    ])
  })

  it('remembers that the workload left this instance', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-state-'))
    openState(dir, () => 0).retire('i-old', 'switched to i-new', 5)
    const s = openState(dir, () => 10)
    expect(s.retiredReason('i-old')).toBe('switched to i-new')
    expect(s.retiredReason('i-new')).toBeNull()
  })

  it('resets a state copied from another instance through an image: no switch resumes, no report is re-sent', () => {
    const source = mkdtempSync(join(tmpdir(), 'sg-state-'))
    const a = openState(source, () => 1000)
    expect(a.claim('i-source')).toEqual({ kind: 'adopted' })
    a.rememberLogicalAgentId('web-1')
    a.startCommand(command, 1000)
    a.progress('cmd-1', { imageId: 'ami-1' })
    a.markExecuted('cmd-0', 900)
    a.enqueue({
      key: 'executed:cmd-0',
      method: 'POST',
      path: '/api/agents/agt-1/commands/cmd-0/executed',
      body: { success: true },
      queuedAt: 900,
    })
    // CreateImage copies the disk while the switch runs; the new instance boots with the copy.
    const copy = mkdtempSync(join(tmpdir(), 'sg-state-'))
    cpSync(source, copy, { recursive: true })

    const b = openState(copy, () => 2000)
    expect(b.claim('i-copy')).toEqual({
      kind: 'cloned',
      from: 'i-source',
      dropped: { inflight: 1, outbox: 1 },
    })
    expect(b.inflight()).toEqual([])
    expect(b.progressOf('cmd-1')).toEqual({})
    expect(b.outbox()).toEqual([])
    expect(b.isExecuted('cmd-0')).toBe(false)
    expect(b.logicalAgentId()).toBeNull()
    // The reset is on disk: a restart on the copy finds its own (empty) state.
    expect(JSON.parse(readFileSync(join(copy, 'state.json'), 'utf8'))).toMatchObject({
      instanceId: 'i-copy',
      inflight: {},
      outbox: [],
      executed: {},
    })
    expect(openState(copy, () => 3000).claim('i-copy')).toEqual({ kind: 'own' })
    // The source keeps its own.
    const again = openState(source, () => 3000)
    expect(again.claim('i-source')).toEqual({ kind: 'own' })
    expect(again.inflight().map((i) => i.command.id)).toEqual(['cmd-1'])
    expect(again.logicalAgentId()).toBe('web-1')
  })

  it('adopts a state written before it named its instance, without commands aimed at another instance', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-state-'))
    const old = openState(dir, () => 0)
    old.startCommand(command, 0)
    old.startCommand({ ...command, id: 'cmd-2', instance_id: 'i-other' }, 0)
    old.startCommand({ ...command, id: 'cmd-3', instance_id: null }, 0)
    const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))
    delete file.instanceId
    delete file.logicalAgentId
    writeFileSync(join(dir, 'state.json'), JSON.stringify(file))

    const s = openState(dir, () => 10)
    expect(s.claim(command.instance_id!)).toEqual({ kind: 'adopted' })
    expect(
      s
        .inflight()
        .map((i) => i.command.id)
        .sort(),
    ).toEqual(['cmd-1', 'cmd-3'])
  })

  it('sets a corrupt file aside and starts empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-state-'))
    writeFileSync(join(dir, 'state.json'), '{not json')
    const s = openState(dir, () => 42)
    expect(s.inflight()).toEqual([])
    expect(readdirSync(dir).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true)
  })
})
