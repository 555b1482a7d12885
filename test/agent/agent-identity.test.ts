/**
 * The 5.x agent's identity (issue 12 finding 3): it reads the signed instance identity document, sends
 * it with its registration, keeps the agent token it gets in its state, and uses that token (never the
 * client token) for everything after registration; a copy of its state on another instance drops it.
 */
import { createVerify } from 'node:crypto'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createImds, type Identity } from '../../agent/src/imds'
import { Link } from '../../agent/src/link'
import { memoryLog } from '../../agent/src/log'
import { register, registrationBody } from '../../agent/src/registration'
import { memoryState, openState } from '../../agent/src/state'
import {
  imdsFor,
  seedWorkload,
  startFakeEc2,
  type FakeEc2,
  type FakeImds,
  type SeededWorkload,
} from '../fakes'
import { TEST_IID_CERT_PEM } from '../fakes/imds/identity-signing'
import { instantClock } from './support/clock'
import { recordingHttp } from './support/http'

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

describe('the signed instance identity document', () => {
  it("is the instance's as EC2 holds it, with an RSA signature the test certificate verifies", async () => {
    const proof = await createImds(fake.url, instantClock()).identityProof()
    expect(proof).not.toBeNull()
    const document = JSON.parse(proof!.document)
    const facts = ec2.instance(workload.instanceId)!
    expect(document).toMatchObject({
      instanceId: workload.instanceId,
      region: 'us-east-1',
      instanceType: facts.instanceType,
      availabilityZone: facts.az,
      imageId: facts.imageId,
    })
    expect(document.accountId).toMatch(/^\d{12}$/)
    const verify = createVerify('sha256').update(proof!.document)
    expect(verify.verify(TEST_IID_CERT_PEM, proof!.signature, 'base64')).toBe(true)
    // One byte changed and it no longer verifies.
    const edited = proof!.document.replace(workload.instanceId, 'i-0000000000000dead')
    expect(createVerify('sha256').update(edited).verify(TEST_IID_CERT_PEM, proof!.signature, 'base64')).toBe(
      false,
    )
  })
})

const self: Identity = {
  instanceId: 'i-0123456789abcdef0',
  instanceType: 't3.medium',
  region: 'us-east-1',
  az: 'us-east-1a',
  amiId: 'ami-1',
  privateIp: '10.0.0.4',
  publicIp: null,
  hostname: null,
  mode: 'spot',
}
const proof = { document: '{"instanceId":"i-0123456789abcdef0"}', signature: 'c2lnbmF0dXJl' }

function linkAnswering(answer: { status: number; body?: unknown }) {
  const clock = instantClock()
  const http = recordingHttp([(call) => (call.path === '/api/agents/register' ? answer : undefined)])
  const link = new Link({
    http,
    state: memoryState(clock.now),
    clock,
    log: memoryLog(),
    serverUrl: 'http://cp',
    token: 'tok-client',
    signal: new AbortController().signal,
  })
  return { clock, log: memoryLog(), http, link }
}

describe('registration with the document', () => {
  it('sends the document and signature with the client token, then uses the new agent token only', async () => {
    const w = linkAnswering({
      status: 200,
      body: { agent_id: 'agt-1', identity: 'verified', agent_token: 'sga_new' },
    })
    const outcome = await register(
      w,
      registrationBody(self, 'web-1', null, proof),
      new AbortController().signal,
    )
    expect(outcome).toMatchObject({ kind: 'registered', body: { agent_token: 'sga_new' } })
    await w.link.heartbeat({ status: 'online' })
    await w.link.pendingCommands(self.instanceId)
    const [reg, ...rest] = w.http.calls
    expect(reg).toMatchObject({
      body: { identity_document: proof.document, identity_signature: proof.signature },
    })
    expect(reg!.bearer).toBeUndefined()
    expect(rest.map((c) => c.bearer)).toEqual(['sga_new', 'sga_new'])
  })

  it('a restart re-registers with the token it holds, and keeps using it', async () => {
    const w = linkAnswering({ status: 200, body: { agent_id: 'agt-1', identity: 'verified' } })
    await register(w, registrationBody(self, 'web-1', null, proof, 'sga_held'), new AbortController().signal)
    await w.link.heartbeat({ status: 'online' })
    expect(
      w.http.calls.map((c) => [c.path, c.bearer, (c.body as { agent_token?: string }).agent_token]),
    ).toEqual([
      ['/api/agents/register', undefined, 'sga_held'],
      ['/api/agents/agt-1/heartbeat', 'sga_held', undefined],
    ])
  })

  it('an unverified registration (no trust list) keeps the client token', async () => {
    const w = linkAnswering({ status: 200, body: { agent_id: 'agt-1', identity: 'unverified' } })
    await register(w, registrationBody(self, 'web-1', null, proof, 'sga_stale'), new AbortController().signal)
    await w.link.heartbeat({ status: 'online' })
    expect(w.http.calls.at(-1)!.bearer).toBeUndefined()
  })
})

describe('the agent token in the state file', () => {
  it('survives a restart on its instance and is dropped on a copy booted elsewhere', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-state-'))
    const state = openState(dir, () => 1000)
    state.claim('i-source')
    state.rememberAgentToken('sga_secret')
    const reopened = openState(dir, () => 2000)
    expect(reopened.claim('i-source')).toEqual({ kind: 'own' })
    expect(reopened.agentToken()).toBe('sga_secret')
    const copy = mkdtempSync(join(tmpdir(), 'sg-state-'))
    cpSync(dir, copy, { recursive: true })
    const cloned = openState(copy, () => 3000)
    expect(cloned.claim('i-copy').kind).toBe('cloned')
    expect(cloned.agentToken()).toBeNull()
  })
})
