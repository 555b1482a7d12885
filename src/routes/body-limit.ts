/**
 * Reading a request body no larger than a limit without holding more of it: a declared
 * `Content-Length` over the limit is refused before any byte is read, and a body without one (chunked)
 * is read as a stream that stops at the first chunk past the limit.
 */

/** The body as text, or null when it is (or declares itself) longer than `maxBytes`. */
export async function readLimitedText(request: Request, maxBytes: number): Promise<string | null> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) return null
  if (!request.body) return ''
  // The runtime reads a body of declared length no further than it declares: read natively.
  if (declared !== null && Number.isSafeInteger(Number(declared))) return request.text()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    length += value.byteLength
    if (length > maxBytes) {
      await reader.cancel()
      return null
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}
