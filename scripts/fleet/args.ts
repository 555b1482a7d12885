/** Command-line options of `npm start` and `npm run fleet`, parsed once (`--name value` or `--name=value`). */
import { join } from 'node:path'
import * as z from 'zod'
import { ROOT } from './control-plane'

/** Where a local run keeps its state unless told otherwise. */
export function defaultStateDir(): string {
  return process.env.SPOTGUARD_HOME ?? join(ROOT, '.spotguard')
}

/** Simulated seconds per real second with `--real-time=false`: one real minute is a simulated hour. */
export const FAST_SPEED = 60

const StartOptions = z.object({
  agents: z.coerce.number().int().min(0).max(100).default(3),
  'real-time': z.enum(['true', 'false']).default('true'),
  port: z.coerce.number().int().min(1).max(65_535).default(Number(process.env.SPOTGUARD_PORT ?? 8787)),
  'state-dir': z.string().min(1).default(defaultStateDir()),
})

/** Splits argv into positional words and `--flags`. */
export function splitArgs(argv: string[]): { words: string[]; flags: Record<string, string> } {
  const words: string[] = []
  const flags: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      words.push(arg)
      continue
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined]
    if (inline !== undefined) flags[name] = inline
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags[name] = argv[++i]!
    else flags[name] = 'true'
  }
  return { words, flags }
}

/** `npm start -- [--agents N] [--real-time=false] [--port P] [--state-dir D]`. */
export function parseStartOptions(argv: string[]) {
  const parsed = StartOptions.strict().safeParse(splitArgs(argv).flags)
  if (!parsed.success) throw new Error(`bad options: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`)
  const o = parsed.data
  return { agents: o.agents, speed: o['real-time'] === 'false' ? FAST_SPEED : 1, port: o.port, stateDir: o['state-dir'] }
}
