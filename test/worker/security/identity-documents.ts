/** Signed instance identity documents for the Worker's tests, as the fake IMDS serves them. */
import { env } from 'cloudflare:test'
import { call, type TestClient } from '../agent-api/helpers'

export interface Instance {
  accountId: string
  region: string
  instanceId: string
  /** t3.medium unless told otherwise. */
  instanceType?: string
}

/** A fresh instance of account `accountId` in us-east-1. */
export function newInstance(accountId = '123456789012'): Instance {
  return {
    accountId,
    region: 'us-east-1',
    instanceId: `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`,
  }
}

/** The document's text, formatted as IMDS prints it. */
export function documentOf(i: Instance, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      accountId: i.accountId,
      architecture: 'x86_64',
      availabilityZone: `${i.region}a`,
      imageId: 'ami-0123456789abcdef0',
      instanceId: i.instanceId,
      instanceType: i.instanceType ?? 't3.medium',
      pendingTime: '2026-01-01T00:00:00Z',
      privateIp: '10.0.0.12',
      region: i.region,
      version: '2017-09-30',
      ...overrides,
    },
    null,
    2,
  )
}

const testKey = importPkcs8(env.TEST_IID_SIGNING_KEY)

/** Base64 RSA PKCS#1 v1.5 / SHA-256 signature of `text` with `key` (default: the trusted test key). */
export async function signatureOf(text: string, key?: CryptoKey): Promise<string> {
  const signature = await crypto.subtle.sign(
    'RSASSA-PKCS1-v1_5',
    key ?? (await testKey),
    new TextEncoder().encode(text),
  )
  return btoa(String.fromCharCode(...new Uint8Array(signature)))
}

/** A key nobody trusts (a forger's). */
export async function untrustedKey(): Promise<CryptoKey> {
  const pair = (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    false,
    ['sign', 'verify'],
  )) as CryptoKeyPair
  return pair.privateKey
}

/** A 5.x registration body of `i` under `logicalId`, with its signed document unless told otherwise. */
export async function registrationOf(
  i: Instance,
  logicalId: string,
  extra: { document?: string; signature?: string; agentToken?: string } = {},
) {
  const document = extra.document ?? documentOf(i)
  return {
    logical_agent_id: logicalId,
    instance_id: i.instanceId,
    instance_type: i.instanceType ?? 't3.medium',
    region: i.region,
    az: `${i.region}a`,
    mode: 'spot',
    agent_version: '5.2.0',
    identity_document: document,
    identity_signature: extra.signature ?? (await signatureOf(document)),
    ...(extra.agentToken ? { agent_token: extra.agentToken } : {}),
  }
}

/** Registers `i` verified; returns the agent id and its agent token's Authorization header. */
export async function registerVerified(
  client: TestClient,
  i: Instance,
  logicalId = `logical-${crypto.randomUUID()}`,
) {
  const res = await call('POST', '/api/agents/register', await registrationOf(i, logicalId), client.auth)
  if (res.status !== 200 || typeof res.json.agent_token !== 'string')
    throw new Error(`verified register: ${res.status} ${res.text}`)
  return {
    agentId: res.json.agent_id as string,
    logicalId,
    token: res.json.agent_token as string,
    auth: { Authorization: `Bearer ${res.json.agent_token}` },
  }
}

function importPkcs8(pem: string): Promise<CryptoKey> {
  const der = Uint8Array.from(atob(pem.replace(/-----(BEGIN|END) PRIVATE KEY-----|\s+/g, '')), (c) =>
    c.charCodeAt(0),
  )
  return crypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, [
    'sign',
  ])
}
