/** A flow's refusal reaches HTTP as the ApiError it threw before: same status, code, message, fields. */
import { describe, expect, it } from 'vitest'
import { ApiError, found, orThrow } from '../../src/errors'
import { refuse } from '../../src/flows/refusal'

function thrown(fn: () => unknown): ApiError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ApiError) return err
    throw err
  }
  throw new Error('nothing thrown')
}

describe('refusals answered over HTTP', () => {
  it('passes a success through unchanged', () => {
    const ok = { ok: true as const, replicaId: 'rep_1' }
    expect(orThrow<typeof ok>(ok)).toBe(ok)
  })

  it('throws a refusal as the ApiError of its code, with its details', () => {
    const err = thrown(() =>
      orThrow(refuse('CONFLICT', "a failed replica can't become ready", { status: 'failed' })),
    )
    expect({ status: err.status, code: err.code, message: err.message, details: err.details }).toEqual({
      status: 409,
      code: 'CONFLICT',
      message: "a failed replica can't become ready",
      details: { status: 'failed' },
    })
  })

  it('gives a refusal without details no extra fields', () => {
    const err = thrown(() => orThrow(refuse('GONE', 'replica terminated: it will never be promoted')))
    expect([err.status, err.details]).toEqual([410, {}])
  })

  it('answers a missing row 404 and passes a found one through', () => {
    expect(found({ id: 'agt_1' }, 'agent not found')).toEqual({ id: 'agt_1' })
    const err = thrown(() => found(undefined, 'agent not found'))
    expect([err.status, err.code, err.message]).toEqual([404, 'NOT_FOUND', 'agent not found'])
  })
})
