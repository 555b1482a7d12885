import { describe, expect, it } from 'vitest'
import { mergeOwner } from '../../src/session/owner'

const ref = { clientId: 'c1', agentId: 'a1' }

describe('mergeOwner', () => {
  it('adopts the first caller and keeps what later calls do not say', () => {
    const first = mergeOwner(null, ref, { agentVersion: '4.0.0', instanceId: 'i-1' })
    expect(first).toEqual({ ...ref, agentVersion: '4.0.0', instanceId: 'i-1', retired: false })
    expect(mergeOwner(first, ref)).toEqual(first)
    expect(mergeOwner(first, ref, { instanceId: 'i-2' })?.instanceId).toBe('i-2')
    expect(mergeOwner({ ...first!, retired: true }, ref)?.retired).toBe(true)
  })

  it('refuses another client or agent', () => {
    const owner = mergeOwner(null, ref)
    expect(mergeOwner(owner, { clientId: 'c2', agentId: 'a1' })).toBeNull()
    expect(mergeOwner(owner, { clientId: 'c1', agentId: 'a2' })).toBeNull()
  })
})
