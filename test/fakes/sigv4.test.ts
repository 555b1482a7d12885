import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2'
import { AwsClient } from 'aws4fetch'
import { XMLParser } from 'fast-xml-parser'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startFakeEc2, type FakeEc2 } from './ec2/server'
import { sdkFor } from './sdk'
import { TEST_CREDENTIALS } from './sigv4'

let ec2: FakeEc2
beforeEach(async () => {
  ec2 = await startFakeEc2()
})
afterEach(() => ec2.close())

const body = 'Action=DescribeAvailabilityZones&Version=2016-11-15'
const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }

function aws4(overrides: Partial<ConstructorParameters<typeof AwsClient>[0]> = {}) {
  return new AwsClient({ ...TEST_CREDENTIALS, service: 'ec2', region: 'us-east-1', retries: 0, ...overrides })
}

function errorCode(xml: string): string {
  return new XMLParser().parse(xml).Response.Errors.Error.Code
}

describe('SigV4 verification of the fake EC2', () => {
  it('accepts a request signed by aws4fetch, as the agent signs it', async () => {
    const res = await aws4().fetch(ec2.url, { method: 'POST', headers: form, body })
    expect(res.status).toBe(200)
    const xml = await res.text()
    expect(xml).toContain(
      '<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">',
    )
    expect(xml).toMatch(/<requestId>[0-9a-f-]{36}<\/requestId>/)
  })

  it('rejects a wrong secret as SignatureDoesNotMatch through the SDK', async () => {
    const bad = sdkFor(ec2, { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' })
    await expect(bad.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    })
    expect(ec2.requests.at(-1)).toMatchObject({
      action: 'DescribeInstances',
      status: 403,
      code: 'SignatureDoesNotMatch',
    })
  })

  it('rejects an unknown access key and a wrong region as AuthFailure', async () => {
    const stranger = sdkFor(ec2, { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' })
    await expect(stranger.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'AuthFailure',
      $metadata: { httpStatusCode: 401 },
    })
    const elsewhere = new EC2Client({
      endpoint: ec2.url,
      region: 'eu-west-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    })
    await expect(elsewhere.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'AuthFailure',
    })
  })

  it('rejects a request without Authorization and one whose body changed after signing', async () => {
    const unsigned = await fetch(ec2.url, { method: 'POST', headers: form, body })
    expect(unsigned.status).toBe(401)
    expect(errorCode(await unsigned.text())).toBe('AuthFailure')
    const signed = await aws4().sign(ec2.url, { method: 'POST', headers: form, body })
    const tampered = await fetch(ec2.url, {
      method: 'POST',
      headers: signed.headers,
      body: body.replace('Zones', 'Zones&DryRun=true'),
    })
    expect(tampered.status).toBe(403)
    expect(errorCode(await tampered.text())).toBe('SignatureDoesNotMatch')
  })

  it('requires the session token to be signed', async () => {
    const noToken = aws4({ sessionToken: undefined })
    const res = await noToken.fetch(ec2.url, { method: 'POST', headers: form, body })
    expect(res.status).toBe(403)
    expect(errorCode(await res.text())).toBe('SignatureDoesNotMatch')
  })

  it('answers an unknown action with InvalidAction', async () => {
    const res = await aws4().fetch(ec2.url, {
      method: 'POST',
      headers: form,
      body: 'Action=LaunchRockets&Version=2016-11-15',
    })
    expect(res.status).toBe(400)
    expect(errorCode(await res.text())).toBe('InvalidAction')
  })
})
