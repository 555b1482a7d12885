/** Pool ids: `<instance_type>.<availability_zone>`; the AZ is the text after the last `.`. */

export interface PoolRef {
  poolId: string
  instanceType: string
  az: string
}

/** The parts of a pool id, or null when it has no type or no AZ. */
export function parsePoolId(poolId: string): PoolRef | null {
  const dot = poolId.lastIndexOf('.')
  if (dot <= 0 || dot === poolId.length - 1) return null
  return { poolId, instanceType: poolId.slice(0, dot), az: poolId.slice(dot + 1) }
}

export function poolIdOf(instanceType: string, az: string): string {
  return `${instanceType}.${az}`
}

/** The region of an AZ (`us-east-1b` → `us-east-1`); used only when the agent did not say. */
export function regionOfAz(az: string): string {
  return az.replace(/[a-z]+$/, '')
}

/** A readable pool name for the API: `t3.medium (us-east-1c)`. */
export function poolName(instanceType: string, az: string): string {
  return `${instanceType} (${az})`
}

/** The pool of a spot placement: as given, else from its type and AZ; null off spot or when unknown. */
export function spotPoolOf(side: {
  mode: string | null
  poolId: string | null
  instanceType: string | null
  az: string | null
}): string | null {
  if (side.mode !== 'spot') return null
  return side.poolId ?? (side.instanceType && side.az ? poolIdOf(side.instanceType, side.az) : null)
}
