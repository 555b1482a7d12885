/**
 * Lenient readers for what the installed agents send: `null` or the string "unknown" where IMDS
 * failed, IMDS's `on-demand`, Python's ISO timestamps with microseconds and `+00:00`. Strict on types:
 * a number where a string belongs is still a 400.
 */
import * as z from 'zod'
import type { MODES } from '../../db/schema'

/** A text fact; null, "" and "unknown" all mean "not known". */
export const fact = z
  .string()
  .max(512)
  .nullish()
  .transform((v) => (v == null || v.trim() === '' || v.trim().toLowerCase() === 'unknown' ? null : v.trim()))

/** A required text fact (the key must be there, its value may still be unknown). */
export const requiredFact = z
  .string()
  .max(512)
  .nullable()
  .transform((v) => (v == null || v.trim() === '' || v.trim().toLowerCase() === 'unknown' ? null : v.trim()))

/** An EC2 instance id as agents send it. */
export const instanceIdField = z.string().trim().min(1).max(64)

/** A mode on the wire: `spot`, `ondemand` (or IMDS's `on-demand`), anything else is `unknown`. */
export const modeField = z
  .string()
  .max(64)
  .nullish()
  .transform((v): (typeof MODES)[number] => toMode(v))

export function toMode(value: string | null | undefined): (typeof MODES)[number] {
  const v = value?.trim().toLowerCase().replaceAll('_', '-')
  if (v === 'spot') return 'spot'
  if (v === 'ondemand' || v === 'on-demand') return 'ondemand'
  return 'unknown'
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$/i

/** Epoch ms of an ISO-8601 time; no zone means UTC (Python's naive utcnow()). Null when unreadable. */
export function parseIsoTime(value: string): number | null {
  const m = ISO.exec(value.trim())
  if (!m) return null
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const millis = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), millis)
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000
  }
  return Number.isFinite(t) ? t : null
}

/** An optional agent-clock time as epoch ms; a string that is not a time is a 400. */
export const timeField = z
  .string()
  .max(64)
  .nullish()
  .transform((v, ctx) => {
    if (v == null || v === '') return null
    const t = parseIsoTime(v)
    if (t === null) ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time' })
    return t
  })

/** A price in USD per hour; null when the agent could not read it. */
export const priceField = z
  .number()
  .finite()
  .min(0)
  .max(1_000_000)
  .nullish()
  .transform((v) => v ?? null)

/** A boolean that legacy agents may send as 0/1. */
export const flagField = z
  .union([z.boolean(), z.literal(0), z.literal(1)])
  .nullish()
  .transform((v) => (v == null ? null : Boolean(v)))
