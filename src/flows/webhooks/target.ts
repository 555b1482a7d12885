/**
 * Which URLs a webhook may POST to. The host is read as WHATWG URL parsing reads it (the fetch that
 * delivers parses it the same way: `https://2130706433/` is 127.0.0.1), then IP literals of loopback,
 * private, shared (CGNAT), link-local (the metadata address), unique-local, unspecified, multicast and
 * reserved ranges are refused, IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4) included, as
 * are `localhost` and `*.localhost`. Names are not resolved here: a Worker's fetch does not reach
 * private networks; these rules close the direct path. Checked when the URL is set and again before
 * each delivery (a URL stored before these rules).
 */
import { refuse, type Refusal } from '../refusal'

export type WebhookTarget = { ok: true; url: string } | Refusal

/** The URL to store and send to (normalized), or why it is refused; `allowHttp` is a dev setting. */
export function checkWebhookUrl(raw: string, allowHttp: boolean): WebhookTarget {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return refuse('BAD_REQUEST', 'webhook URL is not a valid URL')
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    return refuse('BAD_REQUEST', 'webhook URL must use https')
  }
  if (url.username || url.password) return refuse('BAD_REQUEST', 'webhook URL must not carry credentials')
  const host = url.hostname.toLowerCase().replace(/\.$/, '')
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return refuse('BAD_REQUEST', 'webhook URL must not name localhost')
  }
  const blocked = host.startsWith('[') ? blockedIpv6(host.slice(1, -1)) : blockedIpv4(parseIpv4(host))
  if (blocked) return refuse('BAD_REQUEST', `webhook URL must be public: ${host} is ${blocked}`)
  return { ok: true, url: url.href }
}

/** IPv4 ranges no webhook may target: [first octets as a number, prefix length, what it is]. */
const IPV4_BLOCKED: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (instance metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
]

/** What an IPv4 address (as a 32-bit number; null: not an IPv4 literal) is when it is refused. */
function blockedIpv4(ip: number | null): string | null {
  if (ip === null) return null
  for (const [base, bits, what] of IPV4_BLOCKED) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
    if ((ip & mask) >>> 0 === parseIpv4(base)) return what
  }
  return null
}

/** A dotted-quad hostname as a number (WHATWG parsing has already turned other forms into one). */
function parseIpv4(host: string): number | null {
  const parts = host.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null
  return parts.reduce((n, p) => n * 256 + Number(p), 0)
}

type Eight = [number, number, number, number, number, number, number, number]

/** What an IPv6 literal (no brackets) is when it is refused. */
function blockedIpv6(literal: string): string | null {
  const words = parseIpv6(literal)
  if (!words) return 'not an IPv6 address'
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words as Eight
  const v4 = (w6 * 65536 + w7) >>> 0
  const zeroTo = (n: number) => words.slice(0, n).every((w) => w === 0)
  if (zeroTo(8)) return 'unspecified'
  if (zeroTo(7) && w7 === 1) return 'loopback'
  if (zeroTo(5) && w5 === 0xffff) return blockedIpv4(v4)
  if (zeroTo(6)) return blockedIpv4(v4) ?? 'IPv4-compatible'
  if (w0 === 0x64 && w1 === 0xff9b && w2 + w3 + w4 + w5 === 0) return blockedIpv4(v4)
  if (w0 === 0x2002) return blockedIpv4((w1 * 65536 + w2) >>> 0)
  if ((w0 & 0xfe00) === 0xfc00) return 'unique-local'
  if ((w0 & 0xffc0) === 0xfe80) return 'link-local'
  if ((w0 & 0xffc0) === 0xfec0) return 'site-local'
  if ((w0 & 0xff00) === 0xff00) return 'multicast'
  if (w0 === 0x2001 && w1 === 0x0db8) return 'documentation'
  if (w0 === 0x0100 && w1 === 0 && w2 === 0 && w3 === 0) return 'discard-only'
  return null
}

/** Eight 16-bit words of an IPv6 literal as WHATWG serializes it (hex words, `::`, no dotted tail). */
function parseIpv6(literal: string): number[] | null {
  const halves = literal.split('::')
  if (halves.length > 2) return null
  const words = (s: string) =>
    s === '' ? [] : s.split(':').map((w) => (/^[0-9a-f]{1,4}$/.test(w) ? parseInt(w, 16) : NaN))
  const head = words(halves[0]!)
  const tail = halves.length === 2 ? words(halves[1]!) : []
  const fill = 8 - head.length - tail.length
  if (halves.length === 1 ? head.length !== 8 : fill < 0) return null
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail]
  return all.every((w) => Number.isInteger(w)) ? all : null
}
