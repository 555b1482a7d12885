/**
 * The emulated 4.0.0 agent's launches carry what it copies from its own instance: a replacement
 * launched without the instance profile had no credentials, so the agent booted on it could never call
 * EC2 (the soak's 4.0.0 workload ended its second interruption `replacement_failed`: "the instance has
 * no role").
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startRegion, type FakeRegion } from '../fakes/region'
import { InstanceAccess } from './instance-access'

let sim: FakeRegion
const opened: InstanceAccess[] = []

beforeEach(async () => {
  sim = await startRegion({ instances: 1 })
})

afterEach(async () => {
  opened.splice(0).forEach((access) => access.close())
  await sim.close()
})

async function accessOn(instanceId: string) {
  const access = new InstanceAccess(
    { imdsUrl: (await sim.imdsOf(instanceId)).url, ec2Url: sim.ec2.url },
    'us-east-1',
  )
  opened.push(access)
  return { access, self: await access.identity() }
}

describe('an installed agent launching from its instance', () => {
  it.each([
    ['in its own zone', 'us-east-1a', true],
    ['in another zone', 'us-east-1b', false],
  ])(
    '%s copies the instance profile, key pair, user data and tags; the launched agent can call EC2',
    async (_, az, sameAz) => {
      const sourceId = sim.seededInstanceIds[0]!
      const source = sim.ec2.instance(sourceId)!
      const { access, self } = await accessOn(sourceId)
      expect(self.az).toBe('us-east-1a')

      const launchedId = await access.launch(self, {
        instanceType: self.instanceType,
        az,
        mode: 'spot',
        tags: { ReplicaId: 'r-1' },
      })

      const launched = sim.ec2.instance(launchedId)!
      expect(launched).toMatchObject({
        imageId: source.imageId,
        az,
        lifecycle: 'spot',
        profile: source.profile,
        keyName: source.keyName,
        userData: source.userData,
        tags: { ...source.tags, ReplicaId: 'r-1' },
      })
      expect(launched.profile).toBeDefined()
      if (sameAz)
        expect(launched).toMatchObject({
          subnetId: source.subnetId,
          securityGroupIds: source.securityGroupIds,
        })
      // The agent on the replacement has the role's credentials: its own launch succeeds.
      const next = await accessOn(launchedId)
      await expect(
        next.access.launch(next.self, { instanceType: self.instanceType, az, mode: 'spot' }),
      ).resolves.toMatch(/^i-/)
    },
  )
})
