import { describe, expect, it } from 'vitest'
import { createLog } from '../../agent/src/log'

describe('createLog', () => {
  it('writes one JSON object per line with time, level and message', () => {
    const lines: string[] = []
    createLog('info', (l) => lines.push(l), () => 0).info('registered', { agent_id: 'a1' })
    expect(JSON.parse(lines[0]!)).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'registered', agent_id: 'a1' })
  })

  it('never prints secrets, however deep', () => {
    const lines: string[] = []
    createLog('debug', (l) => lines.push(l)).warn('x', {
      token: 'tok-secret',
      nested: { Authorization: 'Bearer tok-secret', SecretAccessKey: 'abc', sessionToken: 's', UserData: 'IyEvYmlu' },
      error: new Error('boom'),
    })
    expect(lines[0]).not.toMatch(/tok-secret|"abc"|IyEvYmlu/)
    expect(JSON.parse(lines[0]!).error).toEqual({ name: 'Error', message: 'boom' })
  })

  it('drops lines below the minimum level', () => {
    const lines: string[] = []
    const log = createLog('warn', (l) => lines.push(l))
    log.info('quiet')
    log.error('loud')
    expect(lines).toHaveLength(1)
  })
})
