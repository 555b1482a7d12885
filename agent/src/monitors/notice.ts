/** What the monitors observe: notices with deterministic ids (the same notice always has the same id). */
import { createHash } from 'node:crypto'

export type Notice =
  | { kind: 'interruption'; id: string; action: string; /** ISO-8601 */ time: string }
  | { kind: 'rebalance'; id: string; /** ISO-8601 */ noticeTime: string }
  | {
      kind: 'scheduled'
      id: string
      eventId: string
      code: string
      notBefore: string | null
      description: string
    }

/** Hash of a notice's kind and content: a notice read again is recognised as the same one. */
export function noticeId(kind: Notice['kind'], content: Record<string, unknown>): string {
  const keys = Object.keys(content).sort()
  const canonical = JSON.stringify([kind, keys.map((k) => [k, content[k]])])
  return createHash('sha256').update(canonical).digest('hex').slice(0, 20)
}
