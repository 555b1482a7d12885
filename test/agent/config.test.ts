import { describe, expect, it } from 'vitest'
import { ConfigError, describeConfig, loadConfig } from '../../agent/src/config'

const base = { SPOT_OPTIMIZER_SERVER_URL: 'https://cp.example.com', SPOT_OPTIMIZER_CLIENT_TOKEN: 'tok-abcdefgh' }

describe('loadConfig', () => {
  it('reads the names of agent-api.md with their defaults', () => {
    const c = loadConfig(base)
    expect(c.serverUrl).toBe('https://cp.example.com')
    expect(c.intervals).toMatchObject({ heartbeat: 30, pendingCommands: 15, configRefresh: 60, pricingReport: 300, cleanup: 3600 })
    expect(c.cleanupSnapshotsOlderThanDays).toBe(7)
    expect(c.cleanupAmisOlderThanDays).toBe(30)
    expect(c.stateDir).toBe('/var/lib/spotguard')
    expect(c.dryRun).toBe(false)
    expect(c.imdsEndpoint).toBe('http://169.254.169.254')
    expect(c.logicalAgentId).toBeNull()
  })

  it("accepts the setup script's CENTRAL_SERVER_URL and CLIENT_TOKEN", () => {
    const c = loadConfig({ CENTRAL_SERVER_URL: 'http://10.0.0.5:5000', CLIENT_TOKEN: 'legacy-token' })
    expect(c.serverUrl).toBe('http://10.0.0.5:5000')
    expect(c.token).toBe('legacy-token')
  })

  it('drops a path prefix of the server URL (agents join paths at the root)', () => {
    expect(loadConfig({ ...base, SPOT_OPTIMIZER_SERVER_URL: 'https://cp.example.com/api/' }).serverUrl).toBe('https://cp.example.com')
  })

  it('polls interruption notices every 2 s at most, whatever TERMINATION_CHECK_INTERVAL says', () => {
    expect(loadConfig({ ...base, TERMINATION_CHECK_INTERVAL: '5' }).intervals.termination).toBe(2)
    expect(loadConfig({ ...base, TERMINATION_CHECK_INTERVAL: '1' }).intervals.termination).toBe(1)
  })

  it('names every problem at once', () => {
    try {
      loadConfig({ HEARTBEAT_INTERVAL: 'often', SPOTGUARD_DRY_RUN: 'maybe', AWS_REGION: 'Mars' })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const problems = (err as ConfigError).problems.join('\n')
      expect(problems).toContain('SPOT_OPTIMIZER_SERVER_URL is required')
      expect(problems).toContain('SPOT_OPTIMIZER_CLIENT_TOKEN is required')
      expect(problems).toContain('HEARTBEAT_INTERVAL must be a positive number of seconds, got "often"')
      expect(problems).toContain('SPOTGUARD_DRY_RUN must be true or false')
      expect(problems).toContain('AWS_REGION must look like us-east-1')
    }
  })

  it('rejects a server URL that is not http(s)', () => {
    expect(() => loadConfig({ ...base, SPOT_OPTIMIZER_SERVER_URL: 'ftp://x' })).toThrow(/must be an http\(s\) URL/)
  })

  it('takes the AWS endpoint overrides and the dry-run switch', () => {
    const c = loadConfig({
      ...base,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9000/',
      AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:9001',
      AWS_ENDPOINT_URL_PRICING: 'http://127.0.0.1:9002',
      SPOTGUARD_DRY_RUN: 'true',
      SPOTGUARD_STATE_DIR: '/tmp/sg',
    })
    expect(c).toMatchObject({
      imdsEndpoint: 'http://127.0.0.1:9000',
      ec2Endpoint: 'http://127.0.0.1:9001',
      pricingEndpoint: 'http://127.0.0.1:9002',
      dryRun: true,
      stateDir: '/tmp/sg',
    })
  })

  it('keeps the instance running while its AMI is made unless SPOTGUARD_AMI_NO_REBOOT=false', () => {
    expect(loadConfig(base).amiNoReboot).toBe(true)
    expect(loadConfig({ ...base, SPOTGUARD_AMI_NO_REBOOT: 'false' }).amiNoReboot).toBe(false)
    expect(loadConfig({ ...base, SPOTGUARD_AMI_NO_REBOOT: 'Yes' }).amiNoReboot).toBe(true)
    expect(() => loadConfig({ ...base, SPOTGUARD_AMI_NO_REBOOT: 'sometimes' })).toThrow(
      'SPOTGUARD_AMI_NO_REBOOT must be true or false, got "sometimes"',
    )
  })

  it('never shows the token in full', () => {
    expect(JSON.stringify(describeConfig(loadConfig(base)))).not.toContain('tok-abcdefgh')
  })
})
