import { describe, expect, it } from 'vitest'
import { probesDue } from '../../bench/socket-cadence'
import { SOCKET_HEARTBEAT_MS } from '../../src/protocol'

const HEARTBEAT_SECONDS = SOCKET_HEARTBEAT_MS / 1000

describe('the light socket cadence of the socket-scale bench', () => {
  it('heartbeats when the socket opens, as the 5.x agent does, and pings from 30 s on', () => {
    expect(probesDue(0, HEARTBEAT_SECONDS)).toEqual(['heartbeat'])
    expect(probesDue(1, HEARTBEAT_SECONDS)).toEqual([])
    expect(probesDue(30, HEARTBEAT_SECONDS)).toEqual(['ping'])
    expect(probesDue(60, HEARTBEAT_SECONDS)).toEqual(['ping'])
  })

  it("heartbeats at the agent's socket heartbeat interval, never leaving the object's 120 s offline deadline", () => {
    const ages = Array.from({ length: 600 }, (_, age) => age)
    const heartbeats = ages.filter((age) => probesDue(age, HEARTBEAT_SECONDS).includes('heartbeat'))
    const gaps = heartbeats.slice(1).map((age, i) => age - heartbeats[i]!)
    expect(heartbeats[0]).toBe(0)
    expect(new Set(gaps)).toEqual(new Set([90]))
    expect(ages.filter((age) => probesDue(age, HEARTBEAT_SECONDS).includes('ping'))).toHaveLength(19)
  })
})
