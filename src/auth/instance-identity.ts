/**
 * The EC2 instance identity document and its RSA signature (IMDS `dynamic/instance-identity/document`
 * and `.../signature`: base64 RSASSA-PKCS1-v1_5 over the document's exact bytes, SHA-256), verified
 * with WebCrypto against a trust list of X.509 certificates (AWS publishes one RSA certificate per
 * region). `pkcs7` is DSA, which WebCrypto lacks: never accepted.
 */
import * as z from 'zod'

/** The fields of the document SpotGuard relies on (AWS adds more; they pass through unchecked). */
export const IdentityDocument = z.object({
  accountId: z.string().regex(/^\d{12}$/),
  region: z.string().min(1).max(64),
  instanceId: z.string().regex(/^i-[0-9a-f]{8,32}$/),
  availabilityZone: z.string().min(1).max(64),
  instanceType: z.string().min(1).max(64),
  imageId: z.string().max(64).nullish(),
  /** The instance's launch (ISO time). */
  pendingTime: z.string().max(64).nullish(),
})
export type IdentityDocument = z.infer<typeof IdentityDocument>

export type DocumentCheck =
  | { ok: true; document: IdentityDocument }
  | { ok: false; reason: 'untrusted' | 'bad_signature' | 'malformed' }

/** The public keys of a trust list, imported once per list (an isolate keeps its env). */
const keysOf = new WeakMap<readonly string[], Promise<Array<CryptoKey | null>>>()

/**
 * Verifies `documentText` (as IMDS served it, byte for byte) against `signatureBase64` with any
 * certificate of `trustedPems`, then parses it. An empty list trusts nothing ('untrusted').
 */
export async function verifyIdentityDocument(
  trustedPems: readonly string[],
  documentText: string,
  signatureBase64: string,
): Promise<DocumentCheck> {
  if (trustedPems.length === 0) return { ok: false, reason: 'untrusted' }
  const signature = base64Bytes(signatureBase64)
  if (!signature) return { ok: false, reason: 'bad_signature' }
  let keys = keysOf.get(trustedPems)
  if (!keys)
    keysOf.set(
      trustedPems,
      (keys = Promise.all(trustedPems.map((pem) => importCertificateKey(pem).catch(() => null)))),
    )
  const data = new TextEncoder().encode(documentText)
  let valid = false
  for (const key of await keys) {
    // A certificate that does not parse trusts nothing (a typo in the var never stops the Worker).
    if (key && (await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, data))) valid = true
  }
  if (!valid) return { ok: false, reason: 'bad_signature' }
  let json: unknown
  try {
    json = JSON.parse(documentText)
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  const parsed = IdentityDocument.safeParse(json)
  return parsed.success ? { ok: true, document: parsed.data } : { ok: false, reason: 'malformed' }
}

/** The PEM certificates of a trust list var: every `BEGIN CERTIFICATE` block, in order. */
export function certificatesOf(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => m[0])
}

/** The RSA public key of a PEM X.509 certificate; throws on anything else. */
export async function importCertificateKey(pem: string): Promise<CryptoKey> {
  const der = base64Bytes(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, ''))
  if (!der) throw new Error('certificate is not base64')
  return crypto.subtle.importKey(
    'spki',
    subjectPublicKeyInfo(der),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['verify'],
  )
}

/**
 * The DER of a certificate's SubjectPublicKeyInfo: Certificate ::= SEQUENCE { tbsCertificate, ... },
 * tbsCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity,
 * subject, subjectPublicKeyInfo, ... } (RFC 5280 4.1).
 */
export function subjectPublicKeyInfo(der: Uint8Array): Uint8Array {
  const certificate = readTlv(der, 0)
  const tbs = readTlv(der, certificate.contentStart)
  let at = tbs.contentStart
  if (der[at] === 0xa0) at = readTlv(der, at).end // explicit [0] version
  for (let skip = 0; skip < 5; skip++) at = readTlv(der, at).end // serial, signature, issuer, validity, subject
  const spki = readTlv(der, at)
  if (der[at] !== 0x30) throw new Error('certificate has no SubjectPublicKeyInfo')
  return der.slice(at, spki.end)
}

/** One DER tag-length-value at `at`: where its content starts and where it ends. */
function readTlv(der: Uint8Array, at: number): { contentStart: number; end: number } {
  if (at + 2 > der.length) throw new Error('truncated DER')
  let length = der[at + 1]!
  let contentStart = at + 2
  if (length & 0x80) {
    const bytes = length & 0x7f
    if (bytes === 0 || bytes > 4 || contentStart + bytes > der.length) throw new Error('bad DER length')
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + der[contentStart + i]!
    contentStart += bytes
  }
  const end = contentStart + length
  if (end > der.length) throw new Error('truncated DER')
  return { contentStart, end }
}

function base64Bytes(text: string): Uint8Array | null {
  const clean = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(clean)) return null
  try {
    return Uint8Array.from(atob(clean), (ch) => ch.charCodeAt(0))
  } catch {
    return null
  }
}
