/**
 * When the simulated region sends a spot instance a rebalance recommendation or an interruption
 * notice: deterministic per (seed, instance, simulated minute), so a run can be replayed.
 */
import { unit } from './market'

export type Signal = { kind: 'rebalance'; atMs: number } | { kind: 'interrupt'; atMs: number }

/** Mean simulated hours between signals for one spot instance. */
export const SIGNAL_EVERY_HOURS = { rebalance: 6, interrupt: 48 } as const

const MINUTE_MS = 60_000

/** The signals of one spot instance in the simulated interval [fromMs, toMs). */
export function signalsBetween(seed: number, instanceId: string, fromMs: number, toMs: number): Signal[] {
  const key = hashText(instanceId)
  const signals: Signal[] = []
  for (let minute = Math.ceil(fromMs / MINUTE_MS); minute * MINUTE_MS < toMs; minute++) {
    const atMs = minute * MINUTE_MS
    if (unit(seed, key, minute * 2) < 1 / (SIGNAL_EVERY_HOURS.rebalance * 60)) signals.push({ kind: 'rebalance', atMs })
    if (unit(seed, key, minute * 2 + 1) < 1 / (SIGNAL_EVERY_HOURS.interrupt * 60)) signals.push({ kind: 'interrupt', atMs })
  }
  return signals
}

function hashText(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0
  return h
}
