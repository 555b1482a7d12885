/** An oversized body as memory exhaustion: refused by its declared length, or cut off while streaming it. */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { readLimitedText } from '../../../src/routes/body-limit'
import { MAX_BODY_BYTES } from '../../../src/routes/group'
import { newAgent } from '../agent-api/helpers'

const CHUNK = 64 * 1024

/** A body of `total` bytes of spaces, produced only as it is read; `pulled` counts what was read. */
function countedStream(total: number) {
  const counter = { pulled: 0 }
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (counter.pulled >= total) return controller.close()
        counter.pulled += CHUNK
        controller.enqueue(new Uint8Array(CHUNK).fill(0x20))
      },
    },
    // Nothing is produced ahead of a read.
    { highWaterMark: 0 },
  )
  return { stream, counter }
}

describe('request body size', () => {
  it('refuses a body whose Content-Length is over the limit before reading a byte', async () => {
    const { stream, counter } = countedStream(64 * 1024 * 1024)
    const request = new Request('http://x/', {
      method: 'POST',
      headers: { 'content-length': String(64 * 1024 * 1024) },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(await readLimitedText(request, MAX_BODY_BYTES)).toBeNull()
    expect(counter.pulled).toBe(0)
  })

  it('stops reading a streamed body without a length at the limit and answers 413 JSON', async () => {
    const agent = await newAgent()
    const { stream, counter } = countedStream(64 * 1024 * 1024)
    const res = await SELF.fetch(`http://x/api/agents/${agent.agentId}/heartbeat`, {
      method: 'POST',
      headers: { ...agent.client.auth, 'Content-Type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    expect(counter.pulled).toBeLessThan(4 * MAX_BODY_BYTES)
  })
})
