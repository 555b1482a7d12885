/** Reading EC2 Query parameters: `Name.N` lists, `Filter.N.Name/Value.M`, tag specifications, pagination. */
import { Ec2Error, invalidValue } from './errors'
import type { Tags } from './model'

export type Params = URLSearchParams

export function required(params: Params, name: string): string {
  const value = params.get(name)
  if (value === null || value === '')
    throw new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`)
  return value
}

/** Values of `prefix.1`, `prefix.2`, … in index order. */
export function list(params: Params, prefix: string): string[] {
  const found: Array<[number, string]> = []
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`)
  for (const [key, value] of params) {
    const m = pattern.exec(key)
    if (m) found.push([Number(m[1]), value])
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, value]) => value)
}

/** Indexes N for which some `prefix.N.*` key exists, ascending. */
export function indexes(params: Params, prefix: string): number[] {
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.`)
  const found = new Set<number>()
  for (const key of params.keys()) {
    const m = pattern.exec(key)
    if (m) found.add(Number(m[1]))
  }
  return [...found].sort((a, b) => a - b)
}

export interface Filter {
  name: string
  values: string[]
}

export function filters(params: Params): Filter[] {
  return indexes(params, 'Filter').map((n) => ({
    name: required(params, `Filter.${n}.Name`),
    values: list(params, `Filter.${n}.Value`),
  }))
}

/** What a resource shows for a filter name; undefined when the filter does not exist for it. */
export type FieldReader = (name: string) => string[] | undefined

/** All filters must match (any of their values, with `*` and `?` wildcards); unknown names are rejected. */
export function matchesAll(filterList: Filter[], read: FieldReader): boolean {
  return filterList.every((filter) => {
    const actual = read(filter.name)
    if (actual === undefined)
      throw new Ec2Error('InvalidParameterValue', `The filter '${filter.name}' is invalid`)
    return filter.values.some((pattern) => actual.some((value) => wildcard(pattern).test(value)))
  })
}

/** Tag filters shared by every resource: `tag:<Key>`, `tag-key`, `tag-value`. */
export function tagField(tags: Tags, name: string): string[] | undefined {
  if (name.startsWith('tag:')) {
    const value = tags[name.slice(4)]
    return value === undefined ? [] : [value]
  }
  if (name === 'tag-key') return Object.keys(tags)
  if (name === 'tag-value') return Object.values(tags)
  return undefined
}

function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

/** `TagSpecification.N.ResourceType` + `Tag.M.Key/Value`, merged per resource type. */
export function tagSpecifications(params: Params): Map<string, Tags> {
  const out = new Map<string, Tags>()
  for (const n of indexes(params, 'TagSpecification')) {
    const type = required(params, `TagSpecification.${n}.ResourceType`)
    out.set(type, { ...out.get(type), ...readTags(params, `TagSpecification.${n}.Tag`) })
  }
  return out
}

/** `prefix.N.Key` / `prefix.N.Value` pairs. */
export function readTags(params: Params, prefix: string): Tags {
  const tags: Tags = {}
  for (const n of indexes(params, prefix)) {
    const key = required(params, `${prefix}.${n}.Key`)
    if (key.startsWith('aws:'))
      throw invalidValue('tag key', key, "is invalid: tag keys starting with 'aws:' are reserved")
    tags[key] = params.get(`${prefix}.${n}.Value`) ?? ''
  }
  return tags
}

/**
 * One page of `items` per `MaxResults` (within [min, max]) and `NextToken`, an opaque offset.
 * Without MaxResults everything is returned, as EC2 does for small result sets.
 */
export function paginate<T>(
  params: Params,
  items: T[],
  min: number,
  max: number,
): { page: T[]; nextToken?: string } {
  const rawMax = params.get('MaxResults')
  const token = params.get('NextToken')
  let start = 0
  if (token) {
    const decoded = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64').toString('utf8'))
    if (!decoded) throw new Ec2Error('InvalidPaginationToken', `The pagination token '${token}' is invalid`)
    start = Number(decoded[1])
  }
  if (rawMax === null) return { page: items.slice(start) }
  const size = Number(rawMax)
  if (!Number.isInteger(size) || size < min || size > max) {
    throw invalidValue('maxResults', rawMax, `is invalid. Expecting a value between ${min} and ${max}.`)
  }
  const end = start + size
  return {
    page: items.slice(start, end),
    nextToken: end < items.length ? Buffer.from(`offset:${end}`).toString('base64') : undefined,
  }
}

export function bool(params: Params, name: string): boolean {
  return params.get(name)?.toLowerCase() === 'true'
}
