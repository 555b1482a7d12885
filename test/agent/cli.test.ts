import { describe, expect, it } from 'vitest'
import { runCheck } from '../../agent/src/check'
import { useCheckWorld } from './support/check-world'
import { startAgentProcess } from './support/process'

const world = useCheckWorld()

const env = (token: string) => ({
  SPOT_OPTIMIZER_SERVER_URL: world.serverUrl,
  SPOT_OPTIMIZER_CLIENT_TOKEN: token,
  AWS_EC2_METADATA_SERVICE_ENDPOINT: world.imds.url,
  AWS_ENDPOINT_URL_EC2: world.ec2.url,
})

describe('--check', () => {
  it('passes with a readable report when everything answers', async () => {
    const lines: string[] = []
    expect(await runCheck(env('good-token'), (l) => lines.push(l))).toBe(true)
    const report = lines.join('\n')
    expect(report).toMatch(/\[ OK \] instance metadata \(IMDSv2\): i-\w+ t3\.medium spot in us-east-1a/)
    expect(report).toMatch(/\[ OK \] AWS credentials: instance profile/)
    expect(report).toMatch(/\[ OK \] EC2 API: reachable in us-east-1/)
    expect(report).toMatch(/\[ OK \] client token: accepted/)
    expect(report).not.toContain('good-token')
  })

  it('fails on a refused token', async () => {
    const lines: string[] = []
    expect(await runCheck(env('bad-token'), (l) => lines.push(l))).toBe(false)
    expect(lines.join('\n')).toMatch(/\[FAIL\] client token: refused \(401\)/)
  })

  it('fails on a configuration error, naming it', async () => {
    const lines: string[] = []
    expect(await runCheck({}, (l) => lines.push(l))).toBe(false)
    expect(lines.join('\n')).toMatch(/\[FAIL\] configuration: SPOT_OPTIMIZER_SERVER_URL is required/)
  })
})

describe('the bundle', () => {
  it('prints its version with no environment at all', async () => {
    const p = startAgentProcess({}, ['--version'])
    expect(await p.exited).toBe(0)
    expect(p.lines.map((l) => l.msg)).toEqual(['5.0.0'])
  })

  it('refuses to start without its configuration, with exit code 78 and every problem named', async () => {
    const p = startAgentProcess({ HEARTBEAT_INTERVAL: 'x' })
    expect(await p.exited).toBe(78)
    const err = p.stderr.join('')
    expect(err).toContain('SPOT_OPTIMIZER_SERVER_URL is required')
    expect(err).toContain('HEARTBEAT_INTERVAL must be a positive number of seconds')
  })

  it('--check exits 0 when all checks pass and 1 when one fails', async () => {
    const good = startAgentProcess(env('good-token'), ['--check'])
    expect(await good.exited).toBe(0)
    const bad = startAgentProcess(env('bad-token'), ['--check'])
    expect(await bad.exited).toBe(1)
  })
})
