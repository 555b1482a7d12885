/** EC2 Query API XML: the 2016-11-15 namespace, `requestId`, `<item>` lists, and the error envelope. */
import type { Tags } from './model'

export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/'

export function escapeXml(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (ch) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[ch]};`,
  )
}

/** A leaf element; omitted when the value is undefined (EC2 leaves absent fields out). */
export function leaf(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`
}

/** An element holding already-rendered children. */
export function node(name: string, ...children: string[]): string {
  const inner = children.join('')
  return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`
}

/** A `<name><item>…</item></name>` list, `<name/>` when empty. */
export function itemSet<T>(name: string, items: readonly T[], render: (item: T) => string): string {
  return node(name, ...items.map((item) => node('item', render(item))))
}

export function tagSet(tags: Tags): string {
  return itemSet('tagSet', Object.entries(tags), ([key, value]) => leaf('key', key) + leaf('value', value))
}

/** A successful answer: `<ActionResponse xmlns=…><requestId>…</requestId>…</ActionResponse>`. */
export function actionResponse(action: string, requestId: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">` +
    `<requestId>${requestId}</requestId>${body}</${action}Response>`
  )
}

export function errorResponse(code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
  )
}

/** `<return>true</return>`, the answer of the actions that only acknowledge. */
export const RETURN_TRUE = '<return>true</return>'
