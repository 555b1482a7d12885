import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { instanceProfileCredentials, REFRESH_MARGIN_MS } from '../../agent/src/credentials'
import { createImds, TOKEN_TTL_SECONDS } from '../../agent/src/imds'
import { imdsFor, seedWorkload, startFakeEc2, type FakeEc2, type FakeImds, type SeededWorkload } from '../fakes'
import { instantClock } from './support/clock'

let ec2: FakeEc2
let fake: FakeImds
let workload: SeededWorkload

beforeEach(async () => {
  ec2 = await startFakeEc2()
  workload = seedWorkload(ec2, { lifecycle: 'spot' })
  fake = await imdsFor(ec2, workload.instanceId)
})
afterEach(async () => {
  await fake.close()
  await ec2.close()
})

describe('createImds', () => {
  it('reads the identity with one IMDSv2 token', async () => {
    const imds = createImds(fake.url, instantClock())
    const id = await imds.identity()
    expect(id).toMatchObject({ instanceId: workload.instanceId, instanceType: 't3.medium', region: 'us-east-1', mode: 'spot' })
    expect(id.az).toMatch(/^us-east-1[abc]$/)
    expect(id.publicIp).toBe(workload.publicIp)
    expect(fake.counts.tokenFetches).toBe(1)
    expect(imds.tokenFetches).toBe(1)
  })

  it('keeps its token until shortly before it expires, then fetches one new token', async () => {
    const clock = instantClock()
    const imds = createImds(fake.url, clock)
    for (let i = 0; i < 30; i++) await imds.get('meta-data/instance-id')
    expect(fake.counts.tokenFetches).toBe(1)
    clock.advance(TOKEN_TTL_SECONDS * 1000 - 30_000)
    await imds.get('meta-data/instance-id')
    expect(fake.counts.tokenFetches).toBe(2)
  })

  it('answers null on 404 (no notice is not an error)', async () => {
    const imds = createImds(fake.url, instantClock())
    expect(await imds.get('meta-data/spot/instance-action')).toBeNull()
  })

  it('fetches one new token when IMDS refuses the cached one', async () => {
    const imds = createImds(fake.url, instantClock())
    await imds.get('meta-data/instance-id')
    fake.expireTokens()
    expect(await imds.get('meta-data/instance-id')).toBe(workload.instanceId)
    expect(fake.counts.tokenFetches).toBe(2)
  })

  it('never reads without a token (IMDSv1 is not used)', async () => {
    const imds = createImds(fake.url, instantClock())
    await imds.identity()
    expect(fake.counts.unauthorized).toBe(0)
    expect(fake.requests.filter((r) => r.method === 'GET').length).toBeGreaterThan(0)
  })
})

describe('instanceProfileCredentials', () => {
  it('caches the role credentials and refreshes them before their Expiration', async () => {
    const clock = instantClock(Date.now())
    const imds = createImds(fake.url, clock)
    const source = instanceProfileCredentials(imds, clock)
    const first = await source.get()
    expect(first.accessKeyId).toBeTruthy()
    expect(first.sessionToken).toBeTruthy()
    const credentialReads = () => fake.requests.filter((r) => /security-credentials\/.+/.test(r.path)).length
    await source.get()
    expect(credentialReads()).toBe(1)
    clock.advance(first.expiresAt! - clock.now() - REFRESH_MARGIN_MS + 1)
    fake.rotateCredentials()
    const second = await source.get()
    expect(credentialReads()).toBe(2)
    expect(second.accessKeyId).not.toBe(first.accessKeyId)
  })
})
