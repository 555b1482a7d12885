/**
 * The part of the WHATWG `Headers` that aws4fetch's AwsV4Signer uses, injected by esbuild in place of
 * the global (agent/build.mjs `inject`): touching the global `Headers` loads Node's bundled undici
 * (net/request.ts says why the agent avoids it). Names are case-insensitive and iterate sorted, as
 * in the standard; values are kept as given, trimmed.
 */
type Init = Headers | Record<string, string> | Iterable<readonly [string, string]>

export class Headers {
  private readonly map = new Map<string, string>()

  constructor(init?: Init) {
    if (!init) return
    const pairs =
      init instanceof Headers || Symbol.iterator in init
        ? (init as Iterable<readonly [string, string]>)
        : Object.entries(init)
    for (const [name, value] of pairs) this.set(name, value)
  }

  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase())
  }

  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), String(value).trim())
  }

  delete(name: string): void {
    this.map.delete(name.toLowerCase())
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.map.keys()].sort()) yield [name, this.map.get(name)!]
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name
  }

  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) fn(value, name)
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries()
  }
}
