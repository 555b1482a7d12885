/** JSON-lines logging to stdout (journald keeps it); values under secret-looking keys never print. */
export type Level = 'debug' | 'info' | 'warn' | 'error'
export type Fields = Record<string, unknown>

export interface Log {
  debug(msg: string, fields?: Fields): void
  info(msg: string, fields?: Fields): void
  warn(msg: string, fields?: Fields): void
  error(msg: string, fields?: Fields): void
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 }
const SECRET_KEY = /token|secret|password|authorization|credential|session|access_?key|user_?data/i

/** Replaces the values of secret-looking keys, recursively. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value
  if (value instanceof Error) return { name: value.name, message: value.message }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)
  return out
}

/** A logger writing one JSON object per line through `write` (stdout by default). */
export function createLog(
  minLevel: Level = 'info',
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  now: () => number = Date.now,
): Log {
  const emit = (level: Level) => (msg: string, fields?: Fields) => {
    if (ORDER[level] < ORDER[minLevel]) return
    const base = { time: new Date(now()).toISOString(), level, msg }
    write(JSON.stringify({ ...base, ...(fields ? (redact(fields) as Fields) : {}) }))
  }
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') }
}

/** A logger that keeps lines in memory (tests). */
export function memoryLog(): Log & { lines: Array<Fields & { level: Level; msg: string }> } {
  const lines: Array<Fields & { level: Level; msg: string }> = []
  const log = createLog('debug', (line) => lines.push(JSON.parse(line)))
  return Object.assign(log, { lines })
}
