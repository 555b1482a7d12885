import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AwsV4Signer } from 'aws4fetch'
import { afterEach, describe, expect, it } from 'vitest'
import { Headers as SmallHeaders } from '../../agent/src/net/headers'
import { send } from '../../agent/src/net/request'

let server: Server | null = null
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler)
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('the Headers injected into the bundle', () => {
  it('signs exactly like the standard Headers (same SigV4 Authorization for the same request)', async () => {
    const request = {
      url: 'https://ec2.us-east-1.amazonaws.com/',
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', 'X-Amz-Target': '  Some.Target ' },
      body: 'Action=DescribeInstances&Version=2016-11-15',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 'session-token',
      service: 'ec2',
      region: 'us-east-1',
      datetime: '20260101T000000Z',
    }
    const standard = await new AwsV4Signer(request).sign()
    const original = globalThis.Headers
    // The signer reads the global at call time, as the bundle's injected one would be.
    globalThis.Headers = SmallHeaders as unknown as typeof Headers
    let small
    try {
      small = await new AwsV4Signer(request).sign()
    } finally {
      globalThis.Headers = original
    }
    expect(small.headers).toBeInstanceOf(SmallHeaders)
    expect(small.headers.get('authorization')).toBe(standard.headers.get('authorization'))
    const pairs = (h: { forEach(fn: (value: string, name: string) => void): void }) => {
      const out: string[][] = []
      h.forEach((value, name) => out.push([name, value]))
      return out
    }
    expect(pairs(small.headers)).toEqual(pairs(standard.headers))
  })

  it('is case-insensitive and iterates sorted by name', () => {
    const h = new SmallHeaders({ 'X-B': '2', a: '1' })
    h.set('C', ' 3 ')
    h.delete('x-b')
    expect(h.has('A')).toBe(true)
    expect(h.get('c')).toBe('3')
    expect(h.get('x-b')).toBeNull()
    expect([...h.keys()]).toEqual(['a', 'c'])
  })
})

describe('send (node:http, no fetch)', () => {
  it('answers any status with its body and headers, sends the body with its length', async () => {
    const url = await serve((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c))
      req.on('end', () => {
        res.statusCode = req.url === '/missing' ? 404 : 200
        res.setHeader('X-Server-Time', '2026-01-01T00:00:00.000Z')
        res.end(`${req.method} ${req.headers['content-length'] ?? '-'} ${req.headers['x-token'] ?? '-'} ${body}`)
      })
    })
    expect(await send(`${url}/x`, { method: 'PUT', headers: { 'X-Token': 't' }, body: 'héllo', timeoutMs: 2_000 })).toMatchObject({ status: 200, ok: true, text: 'PUT 6 t héllo' })
    const missing = await send(`${url}/missing`, { timeoutMs: 2_000 })
    expect(missing).toMatchObject({ status: 404, ok: false })
    expect(missing.headers['x-server-time']).toBe('2026-01-01T00:00:00.000Z') // headers come back, names lower-case
  })

  it('rejects when the server does not answer in time, or is not there', async () => {
    const url = await serve(() => {}) // never answers
    await expect(send(url, { timeoutMs: 100 })).rejects.toThrow(/did not answer within 100 ms/)
    await expect(send('http://127.0.0.1:1/', { timeoutMs: 2_000 })).rejects.toThrow(/ECONNREFUSED/)
  })
})
