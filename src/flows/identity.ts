/**
 * Who may register an instance under a logical id, and whether it gets a new agent token.
 * - A verified agent's logical id is never taken by an unverified (client token only) registration.
 * - A signed document is single-use per instance: an instance that got a token registers again only
 *   with that token (or after the operator's reset), so a copied document mints no second identity;
 *   once its instance ended and the token was revoked, not at all.
 * - A verified logical id moves to another instance (a switch's, a promoted replica's) only within an
 *   AWS account it was verified in: the new instance proves with its own document that it runs there.
 * Reads only; the token itself is written in the registration's batch (auth/agent-tokens.ts).
 */
import type { Database } from '../db/client'
import type { Agent } from '../db/schema'
import { accountsOfAgent, isTokenOf, tokenOfInstance, type InstancePlace } from '../auth/agent-tokens'
import { refuse, type Refusal } from './refusal'

/** A registration's proof of its instance: the signed document's place, and the token it holds (if any). */
export interface InstanceProof {
  place: InstancePlace
  /** The agent token this instance got before (a restart). */
  agentToken: string | null
}

/** An instance that already has an agent token, registering without it (a copied document). */
export const IDENTITY_USED = refuse(
  'FORBIDDEN',
  'this instance already registered: send its agent token, or ask the operator to reset the agent',
  { action: 'identity_used' },
)

export type IdentityDecision =
  /** Unverified registration, or a verified instance presenting its own token: nothing to mint. */
  { ok: true; mint: false } | { ok: true; mint: true; place: InstancePlace }

/** The decision for registering `proof` (null: a client token alone) under `existing` (null: a new logical id). */
export async function decideIdentity(
  db: Database,
  existing: Agent | null,
  proof: InstanceProof | null,
): Promise<IdentityDecision | Refusal> {
  if (!proof) {
    if (existing?.identity === 'verified')
      return refuse(
        'FORBIDDEN',
        'this logical id belongs to a verified agent: register with its instance identity',
        {
          action: 'identity_required',
        },
      )
    return { ok: true, mint: false }
  }
  const issued = await tokenOfInstance(db, proof.place)
  if (issued?.revokedAt != null)
    return refuse('FORBIDDEN', 'this instance ended: its agent token was revoked', {
      action: 'identity_ended',
    })
  if (issued) {
    const isOwn =
      existing !== null &&
      issued.agentId === existing.id &&
      proof.agentToken !== null &&
      (await isTokenOf(issued, proof.agentToken))
    if (isOwn) return { ok: true, mint: false }
    return IDENTITY_USED
  }
  if (existing?.identity === 'verified') {
    const accounts = await accountsOfAgent(db, existing.id)
    if (accounts.length > 0 && !accounts.includes(proof.place.accountId))
      return refuse('FORBIDDEN', 'this logical id was verified in another AWS account', {
        action: 'identity_account',
      })
  }
  return { ok: true, mint: true, place: proof.place }
}
