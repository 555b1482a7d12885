import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
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

  it('sets a corrupt file aside and starts empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-state-'))
    writeFileSync(join(dir, 'state.json'), '{not json')
    const s = openState(dir, () => 42)
    expect(s.inflight()).toEqual([])
    expect(readdirSync(dir).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true)
  })
})
