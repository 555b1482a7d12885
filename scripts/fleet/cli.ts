/**
 * `npm run fleet -- <command>`: talks to the running simulator of `npm start` through its control API
 * (found in <state dir>/fleet/fleet.json).
 *   status                          the fleet as JSON
 *   interrupt <agent> [--in S]      spot interruption notice (termination S seconds later, default 120)
 *   rebalance <agent>               rebalance recommendation
 *   kill <agent>                    SIGKILL the agent process (it is restarted like systemd would)
 * Options: --state-dir D (default .spotguard or SPOTGUARD_HOME).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defaultStateDir, splitArgs } from './args'

async function main(argv: string[]): Promise<number> {
  const { words, flags } = splitArgs(argv)
  const [command, agent] = words
  const file = join(flags['state-dir'] ?? defaultStateDir(), 'fleet', 'fleet.json')
  if (!existsSync(file)) {
    process.stderr.write(`no running fleet found (${file} is missing): start one with npm start\n`)
    return 1
  }
  const { control } = JSON.parse(readFileSync(file, 'utf8')) as { control: string }
  const request = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${control}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) }).catch(() => null)
    if (!response) {
      process.stderr.write(`the simulator at ${control} does not answer: is npm start still running?\n`)
      return 1
    }
    process.stdout.write(`${JSON.stringify(await response.json(), null, 2)}\n`)
    return response.ok ? 0 : 1
  }
  switch (command) {
    case 'status':
      return request('GET', '/status')
    case 'interrupt':
    case 'rebalance':
    case 'kill': {
      if (!agent) break
      const body = command === 'interrupt' && flags.in ? { inSeconds: Number(flags.in) } : {}
      return request('POST', `/agents/${encodeURIComponent(agent)}/${command}`, body)
    }
  }
  process.stderr.write('usage: npm run fleet -- status | interrupt <agent> [--in seconds] | rebalance <agent> | kill <agent>\n')
  return 2
}

main(process.argv.slice(2)).then((code) => process.exit(code))
