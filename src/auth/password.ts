/** Password hashing: PBKDF2-SHA256 over WebCrypto, 100,000 iterations (workerd's maximum), per-user salt. */

export const PBKDF2_ITERATIONS = 100_000
const KEY_BITS = 256

export interface PasswordHash {
  /** Hex of the derived key. */
  hash: string
  /** Hex of 16 random bytes. */
  salt: string
}

/** Hashes a new password with a fresh salt. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = toHex(crypto.getRandomValues(new Uint8Array(16)))
  return { hash: await derive(password, salt), salt }
}

/** True when the password matches the stored hash (constant-time comparison). */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = new TextEncoder().encode(await derive(password, stored.salt))
  const expected = new TextEncoder().encode(stored.hash)
  return candidate.length === expected.length && crypto.subtle.timingSafeEqual(candidate, expected)
}

async function derive(password: string, saltHex: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, [
    'deriveBits',
  ])
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: fromHex(saltHex), iterations: PBKDF2_ITERATIONS },
    key,
    KEY_BITS,
  )
  return toHex(new Uint8Array(bits))
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
