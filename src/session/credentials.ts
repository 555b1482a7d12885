/**
 * The bearer tokens an agent's object accepts on an HTTP heartbeat without asking D1: each one the
 * heartbeat route proved in D1 to speak for this agent (the token row, its client active, the agent the
 * client's own), kept as its SHA-256. Kept in the object's memory only: a new instance asks D1 again.
 * Whatever changes a token's truth tells the object, which forgets them all at once (`forget`): the
 * agent deleted, registering again or its tokens reset; the client's tokens rotated or revoked, the
 * client suspended or deleted (flows/credentials.ts). TRUST_MS is a backstop only, for a tell that
 * failed. Every forget starts a new `epoch`: a proof read in D1 before it is not remembered after it.
 */

/**
 * How long a proof in D1 is trusted at most, ms: a backstop for a tell that failed (changes are told
 * at once). An installed agent's heartbeat every 30 s is proven in D1 once in 60.
 */
export const TRUST_MS = 30 * 60_000
/** Tokens remembered per agent: an agent token per instance of a switch, a client token's rotation. */
export const MAX_CREDENTIALS = 4

/** What the route proved in D1 of a token for the agent. */
export interface ProvenToken {
  clientId: string
  /** An agent token's own instance (it acts for that one only); null for a client token. */
  instanceId: string | null
  /** When the token stops working (a rotated client token), epoch ms; null: not by itself. */
  expiresAt: number | null
}

/** A token the object trusts. */
export interface Credential extends Omit<ProvenToken, 'expiresAt'> {
  /** Hex SHA-256 of the bearer token. */
  tokenHash: string
  /** Epoch ms after which D1 is asked again. */
  trustedUntil: number
}

/** The tokens one object trusts; `isSameHash` compares in constant time (ids.ts timingSafeEqual). */
export class TrustedTokens {
  private credentials: Credential[] = []
  /** Changes at every `forget`; a proof carries the epoch it was asked in. */
  epoch = crypto.randomUUID()

  constructor(private readonly isSameHash: (a: string, b: string) => boolean) {}

  /**
   * Trusts a token proven in D1 after the object answered `epoch`; false (not remembered) when a
   * forget came in between: the proof may predate what was forgotten.
   */
  remember(tokenHash: string, proven: ProvenToken, epoch: string, now: number): boolean {
    if (epoch !== this.epoch) return false
    const { expiresAt, ...owner } = proven
    const trustedUntil = Math.min(now + TRUST_MS, expiresAt ?? Number.POSITIVE_INFINITY)
    const others = this.credentials.filter((c) => c.tokenHash !== tokenHash && c.trustedUntil > now)
    this.credentials = [{ ...owner, tokenHash, trustedUntil }, ...others].slice(0, MAX_CREDENTIALS)
    return true
  }

  /** The trusted credential of a token's hash, or null (unknown, or its trust lapsed: D1 is asked). */
  find(tokenHash: string, now: number): Credential | null {
    return (
      this.credentials.find((c) => c.trustedUntil > now && this.isSameHash(c.tokenHash, tokenHash)) ?? null
    )
  }

  /** Forgets every token at once; proofs asked before are refused. */
  forget(): void {
    this.credentials = []
    this.epoch = crypto.randomUUID()
  }
}
