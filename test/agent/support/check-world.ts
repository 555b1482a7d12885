/**
 * What `--check` and install.sh talk to: the fake EC2, Price List and IMDS of one seeded instance (with
 * a SpotGuard AMI of its workload, as after a first switch), and a control plane stub that answers
 * /health with 200 and any other path with 404 for 'good-token', 401 otherwise.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  imdsFor,
  seedWorkload,
  startFakeEc2,
  startFakeElbv2,
  startFakePricing,
  type FakeEc2,
  type FakeElbv2,
  type FakeImds,
  type FakePricing,
} from '../../fakes'
import { buildBundle } from './process'

export interface CheckWorld {
  ec2: FakeEc2
  pricing: FakePricing
  /** With one target group holding the instance (port 80). */
  elbv2: FakeElbv2
  imds: FakeImds
  /** The seeded instance the agent runs on. */
  instanceId: string
  /** Base URL of the control plane stub. */
  serverUrl: string
  /** The agent's environment on this instance (endpoints, a state dir of its own) with `token`. */
  env(token: string): Record<string, string>
}

/** Registers hooks that build the agent bundle and start the world once for the file; read its fields inside tests. */
export function useCheckWorld(): CheckWorld {
  const world = {} as CheckWorld
  const controlPlane = createServer((req, res) => {
    const status = req.url === '/health' ? 200 : req.headers.authorization === 'Bearer good-token' ? 404 : 401
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}')
  })
  beforeAll(async () => {
    await buildBundle()
    world.ec2 = await startFakeEc2()
    world.pricing = await startFakePricing()
    const w = seedWorkload(world.ec2)
    world.ec2.seed.addImage({
      ownerId: 'self',
      tags: { ManagedBy: 'SpotOptimizer', LogicalAgentId: 'agent-web-1' },
    })
    world.instanceId = w.instanceId
    world.elbv2 = await startFakeElbv2(world.ec2)
    world.elbv2.addTargetGroup({ name: 'web', vpcId: w.vpcId, targets: [w.instanceId] })
    world.imds = await imdsFor(world.ec2, w.instanceId, { pricing: world.pricing, elbv2: world.elbv2 })
    await new Promise<void>((r) => controlPlane.listen(0, '127.0.0.1', r))
    world.serverUrl = `http://127.0.0.1:${(controlPlane.address() as AddressInfo).port}`
    const stateDir = mkdtempSync(join(tmpdir(), 'sg-check-state-'))
    world.env = (token) => ({
      SPOT_OPTIMIZER_SERVER_URL: world.serverUrl,
      SPOT_OPTIMIZER_CLIENT_TOKEN: token,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: world.imds.url,
      AWS_ENDPOINT_URL_EC2: world.ec2.url,
      AWS_ENDPOINT_URL_PRICING: world.pricing.url,
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: world.elbv2.url,
      SPOTGUARD_STATE_DIR: stateDir,
    })
  })
  afterAll(async () => {
    controlPlane.close()
    await world.imds.close()
    await world.pricing.close()
    await world.elbv2.close()
    await world.ec2.close()
  })
  return world
}
