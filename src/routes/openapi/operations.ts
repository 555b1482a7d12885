/** The operations the OpenAPI document lists, with the zod schemas that guard them at the boundary. */
import type * as z from 'zod'

export type Auth = 'client-token' | 'person' | 'admin' | 'none'

export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete'
  path: string
  summary: string
  tag: 'agent' | 'admin' | 'client' | 'account'
  auth: Auth
  body?: z.ZodType
  query?: z.ZodType
}

export const op = (
  method: Operation['method'],
  path: string,
  tag: Operation['tag'],
  auth: Auth,
  summary: string,
  extra: Partial<Operation> = {},
): Operation => ({ method, path, tag, auth, summary, ...extra })
