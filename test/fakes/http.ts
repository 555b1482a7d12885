/** A tiny HTTP server wrapper: whole-body requests in, plain responses out, on 127.0.0.1:0. */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeRequest {
  method: string
  /** Path without the query string */
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: string
}

export interface FakeResponse {
  status: number
  headers?: Record<string, string>
  body?: string
}

export interface RunningServer {
  url: string
  port: number
  close(): Promise<void>
}

export type Handler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>

/** Starts `handler` on a free port of 127.0.0.1; a thrown error becomes a 500 with its message. */
export async function serve(handler: Handler, port = 0): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      Promise.resolve()
        .then(() => handler(request))
        .catch((err: unknown): FakeResponse => ({
          status: 500,
          body: String(err instanceof Error ? err.stack : err),
        }))
        .then((out) => {
          res.writeHead(out.status, out.headers)
          res.end(out.body ?? '')
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** First value of a header that Node may have folded into an array. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}
