/**
 * Entry point: `--version`, `--check [--stateful]`, `--adopt-identity [ID]` (install.sh), or run. Builds
 * `{ imds, ec2, link, clock, log }` once.
 */
import { runAdoptIdentity } from './adopt-identity'
import { runAgent } from './agent'
import { runCheck } from './check'
import { scaledClock, systemClock } from './clock'
import { ConfigError, describeConfig, loadConfig } from './config'
import { environmentCredentials, instanceProfileCredentials } from './credentials'
import { createEc2 } from './ec2-transport'
import { createElbv2 } from './elbv2'
import { systemHost } from './host'
import { createImds } from './imds'
import { Link } from './link'
import { createHttp } from './link/http'
import { createLog } from './log'
import { createPricing } from './pricing'
import { openState } from './state'
import { AGENT_VERSION } from './version'

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`${AGENT_VERSION}\n`)
    return 0
  }
  if (argv.includes('--check'))
    return (await runCheck(env, (line) => process.stdout.write(line + '\n'), {
      stateful: argv.includes('--stateful'),
    }))
      ? 0
      : 1
  const adopt = argv.indexOf('--adopt-identity')
  if (adopt >= 0) {
    const value = argv[adopt + 1]
    return runAdoptIdentity(
      env,
      value && !value.startsWith('--') ? value : null,
      (line) => process.stdout.write(line + '\n'),
      (line) => process.stderr.write(line + '\n'),
    )
  }

  let config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`spotguard-agent: ${err.message}\n`)
    return 78 // EX_CONFIG: systemd shows it; restarting cannot fix it
  }
  const clock = config.simClock ? scaledClock(config.simClock.origin, config.simClock.speed) : systemClock
  const log = createLog(config.logLevel, undefined, clock.now)
  log.info('starting', { version: AGENT_VERSION, config: describeConfig(config) })

  const controller = new AbortController()
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      log.info('signal received, stopping', { signal: sig })
      controller.abort()
    })
  }

  const imds = createImds(config.imdsEndpoint, clock)
  const credentials = environmentCredentials(env) ?? instanceProfileCredentials(imds, clock)
  const state = openState(config.stateDir, clock.now)
  const link = new Link({
    http: createHttp(config.serverUrl, config.token, log),
    state,
    clock,
    log,
    serverUrl: config.serverUrl,
    token: config.token,
    signal: controller.signal,
  })
  await runAgent(
    {
      config,
      imds,
      ec2: (region) =>
        createEc2({ region, endpoint: config.ec2Endpoint, credentials, clock, log, dryRun: config.dryRun }),
      elbv2: (region) =>
        createElbv2({
          region,
          endpoint: config.elbv2Endpoint,
          credentials,
          clock,
          log,
          dryRun: config.dryRun,
        }),
      host: systemHost,
      pricing: (ec2) => createPricing({ ec2, credentials, clock, log, endpoint: config.pricingEndpoint }),
      link,
      state,
      clock,
      log,
    },
    controller.signal,
  )
  log.info('stopped')
  return 0
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`spotguard-agent: fatal: ${err instanceof Error ? err.stack : String(err)}\n`)
    process.exit(1)
  },
)
