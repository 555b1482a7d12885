/**
 * Every HTTP request of the agent (IMDS, EC2, Price List, control plane) goes through node:http(s),
 * never through `fetch`: the first fetch/Request/Headers loads Node's bundled undici, which alone
 * costs 10-20 MB of resident memory in a process that otherwise holds ~45 MB (`ws` uses node:http too).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'

/** Answers larger than this are cut off with an error (EC2 pages are well below it). */
const MAX_BODY_BYTES = 16 * 2 ** 20

export interface HttpAnswer {
  status: number
  ok: boolean
  text: string
  /** Response headers, names lower-case. */
  headers: IncomingMessage['headers']
}

export interface HttpRequest {
  method?: string
  headers?: Record<string, string>
  body?: string
  timeoutMs: number
}

/** One request; rejects on a network failure or timeout, resolves with any HTTP status. */
export function send(url: string, init: HttpRequest): Promise<HttpAnswer> {
  const target = new URL(url)
  const make = target.protocol === 'https:' ? httpsRequest : httpRequest
  const headers = { ...init.headers }
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body))
  return new Promise((resolve, reject) => {
    const req = make(target, { method: init.method ?? 'GET', headers }, (res) => {
      readBody(res).then(
        (text) => {
          clearTimeout(timer)
          const status = res.statusCode ?? 0
          resolve({ status, ok: status >= 200 && status < 300, text, headers: res.headers })
        },
        (err: unknown) => {
          clearTimeout(timer)
          reject(err)
        },
      )
    })
    // One deadline for the whole exchange (connect, headers and body), like AbortSignal.timeout with fetch.
    const timer = setTimeout(
      () => req.destroy(new Error(`${target.host} did not answer within ${init.timeoutMs} ms`)),
      init.timeoutMs,
    )
    req.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    req.end(init.body)
  })
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) res.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`))
      else chunks.push(chunk)
    })
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.once('error', reject)
    res.once('aborted', () => reject(new Error('answer cut off')))
  })
}
