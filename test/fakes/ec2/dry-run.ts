/**
 * `DryRun=true` as EC2 answers it: the permission is checked (`deny` → UnauthorizedOperation), then the
 * request is validated as if it ran (a missing image or subnet, a bad parameter: the same error), and
 * instead of acting EC2 answers `DryRunOperation` (412). Validation runs the real handler on a scratch
 * copy of the world, so nothing the call would change is changed and no launch listener hears of it.
 */
import type { ActionHandler } from './action'
import type { Ec2State } from './model'
import type { Params } from './query'

const copies = <K, V>(map: Map<K, V>) => new Map([...map].map(([k, v]) => [k, structuredClone(v)]))

/** A copy of the world that a handler may mutate freely (ids still come from the shared counter). */
function scratchOf(state: Ec2State): Ec2State {
  return {
    ...state,
    instances: copies(state.instances),
    images: copies(state.images),
    snapshots: copies(state.snapshots),
    subnets: copies(state.subnets),
    vpcs: copies(state.vpcs),
    securityGroups: copies(state.securityGroups),
    profiles: copies(state.profiles),
    keyPairs: new Set(state.keyPairs),
    addresses: copies(state.addresses),
    volumes: copies(state.volumes),
    networkInterfaces: copies(state.networkInterfaces),
    spotPrices: [...state.spotPrices],
    clientTokens: copies(state.clientTokens),
    placementConfigs: new Map(state.placementConfigs),
    launchListeners: [],
    disks: undefined,
  }
}

export function isDryRun(params: Params): boolean {
  return params.get('DryRun')?.toLowerCase() === 'true'
}

/** Runs `handler` on a scratch world: throws the error the real call would answer with, else returns. */
export function validateDryRun(handler: ActionHandler, state: Ec2State, params: Params): void {
  handler({ state: scratchOf(state), params })
}
