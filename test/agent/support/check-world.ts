/**
 * What `--check` and install.sh talk to: the fake EC2 and IMDS of one seeded instance, and a control
 * plane stub that answers /health with 200 and any other path with 404 for 'good-token', 401 otherwise.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll } from 'vitest'
import { imdsFor, seedWorkload, startFakeEc2, type FakeEc2, type FakeImds } from '../../fakes'
import { buildBundle } from './process'

export interface CheckWorld {
  ec2: FakeEc2
  imds: FakeImds
  /** Base URL of the control plane stub. */
  serverUrl: string
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
    world.imds = await imdsFor(world.ec2, seedWorkload(world.ec2).instanceId)
    await new Promise<void>((r) => controlPlane.listen(0, '127.0.0.1', r))
    world.serverUrl = `http://127.0.0.1:${(controlPlane.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    controlPlane.close()
    await world.imds.close()
    await world.ec2.close()
  })
  return world
}
