import { describe, expect, it } from 'vitest'
import { countDescriptors, descriptorKind } from '../../bench/workerd'

const OBJECTS = '/tmp/spotguard-worker-x/persist/v3/do/spotguard-AgentSession'

describe("the socket-scale bench's open-file count", () => {
  it("tells sockets, an object's SQLite files, D1 and the alarm index apart", () => {
    expect(descriptorKind('socket:[123456]')).toBe('socket')
    expect(descriptorKind(`${OBJECTS}/ab12.sqlite`)).toBe('object_storage')
    expect(descriptorKind(`${OBJECTS}/ab12.sqlite-wal`)).toBe('object_storage')
    expect(descriptorKind(`${OBJECTS}/ab12.sqlite-shm`)).toBe('object_storage')
    expect(descriptorKind(`${OBJECTS}/metadata.sqlite`)).toBe('other')
    expect(descriptorKind('/tmp/x/persist/v3/d1/miniflare-D1DatabaseObject/cd34.sqlite')).toBe('d1')
    expect(descriptorKind('anon_inode:[eventpoll]')).toBe('other')
  })

  it('counts each live object once, whatever number of its files are open', () => {
    const counted = countDescriptors(7, [
      'socket:[1]',
      'socket:[2]',
      `${OBJECTS}/ab12.sqlite`,
      `${OBJECTS}/ab12.sqlite-wal`,
      `${OBJECTS}/ab12.sqlite-shm`,
      `${OBJECTS}/cd34.sqlite`,
      'pipe:[9]',
    ])
    expect(counted).toEqual({
      pid: 7,
      total: 7,
      byKind: { socket: 2, object_storage: 4, d1: 0, other: 1 },
      objectsOpen: 2,
    })
  })
})
