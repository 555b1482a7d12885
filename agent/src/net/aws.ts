/**
 * AWS requests signed with aws4fetch's AwsV4Signer (SigV4, with the session token of instance-profile
 * credentials) and sent through node:http(s) (net/request.ts says why not aws4fetch's own fetch).
 */
import { AwsV4Signer } from 'aws4fetch'
import type { AwsCredentials } from '../credentials'
import { send, type HttpAnswer } from './request'

export interface AwsRequest {
  service: string
  region: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body: string
  timeoutMs: number
}

export async function sendSigned(
  url: string,
  creds: AwsCredentials,
  request: AwsRequest,
): Promise<HttpAnswer> {
  const signer = new AwsV4Signer({
    url,
    method: request.method,
    headers: request.headers,
    body: request.body,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    service: request.service,
    region: request.region,
  })
  const signed = await signer.sign()
  const headers: Record<string, string> = {}
  signed.headers.forEach((value, name) => (headers[name] = value))
  return send(signed.url.toString(), {
    method: signed.method,
    headers,
    body: request.body,
    timeoutMs: request.timeoutMs,
  })
}
