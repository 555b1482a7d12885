/**
 * TEST material: the fake IMDS signs instance identity documents with a test RSA key (made once with
 * `openssl req -x509 -newkey rsa:2048`), whose self-signed certificate the test Worker, the local fleet
 * and `npm start` trust (IID_TRUST_CERTS). AWS signs with its own key; never trust this one deployed.
 */
import { createSign } from 'node:crypto'
import { readFileSync } from 'node:fs'

const KEY_PEM = readFileSync(new URL('./TEST-ONLY-iid-signing-key.pem', import.meta.url), 'utf8')

/** The test certificate (PEM): the value of IID_TRUST_CERTS wherever the fake IMDS signs. */
export const TEST_IID_CERT_PEM = readFileSync(
  new URL('./TEST-ONLY-iid-signing-cert.pem', import.meta.url),
  'utf8',
)

const signatures = new Map<string, string>()

/**
 * IMDS `dynamic/instance-identity/signature` of a document: base64 RSASSA-PKCS1-v1_5 with SHA-256 over
 * its exact bytes, wrapped at 64 characters as AWS serves it.
 */
export function signIdentityDocument(document: string): string {
  let signature = signatures.get(document)
  if (!signature) {
    const raw = createSign('sha256').update(document).sign(KEY_PEM).toString('base64')
    signature = raw.replace(/(.{64})/g, '$1\n').trim()
    if (signatures.size > 1000) signatures.clear()
    signatures.set(document, signature)
  }
  return signature
}
