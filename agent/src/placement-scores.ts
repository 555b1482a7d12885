/**
 * Spot placement scores of the types the agent prices, for the control plane's capacity risk: one
 * GetSpotPlacementScores configuration per (types, region) (single AZ, target capacity 1), asked with
 * the instance profile at most once per `intervalMs` (AWS allows 10 distinct configurations per
 * account a day). The answer names AZ ids; DescribeAvailabilityZones maps them to this account's AZ
 * names. Denied (UnauthorizedOperation): it stops asking for a day and says so once (a log line and
 * the report's `denied` status); the control plane then weighs history alone. The day's configurations
 * used up (MaxConfigLimitExceeded): that configuration waits a day. Fewer than three types: not asked,
 * as AWS scores one or two types low whatever the capacity.
 */
import type { Clock } from './clock'
import { Ec2Error, items, text, type Ec2, type Params } from './ec2-transport'
import type { Log } from './log'

/** Default spacing of two requests of one configuration. */
export const PLACEMENT_SCORE_INTERVAL_MS = 6 * 3_600_000
/** How long a denied or limited request waits before it is tried again. */
export const REFUSED_RETRY_MS = 24 * 3_600_000
/** After another failure (EC2 unreachable after the transport's retries). */
const FAILED_RETRY_MS = 30 * 60_000
/** AWS: with one or two instance types "the returned placement score will always be low". */
export const MIN_TYPES = 3

/** The body of POST /api/agents/{agentId}/placement-scores (agent-api.md). */
export interface PlacementScoreReport {
  region: string
  instance_types: string[]
  status: 'ok' | 'denied' | 'limited'
  message?: string
  scores: { az: string; score: number }[]
}

export type AskOutcome = 'asked' | 'not_due' | 'too_few_types' | 'denied' | 'limited'

export interface PlacementScores {
  /** Asks for `types` when due; the report goes to `report`. Throws what else EC2 answered. */
  ask(types: readonly string[]): Promise<AskOutcome>
  /** Whether the instance profile was refused the permission (until a retry succeeds). */
  readonly isDenied: boolean
}

/** The one configuration the agent asks for `types` (also --check's dry run). */
export function placementScoreParams(region: string, types: readonly string[]): Params {
  const params: Params = { TargetCapacity: 1, SingleAvailabilityZone: true, 'RegionName.1': region }
  types.forEach((t, i) => (params[`InstanceType.${i + 1}`] = t))
  return params
}

export function createPlacementScores(deps: {
  ec2: Ec2
  clock: Clock
  log: Log
  region: string
  intervalMs?: number
  report(body: PlacementScoreReport): void
}): PlacementScores {
  const { ec2, clock, log, region } = deps
  const intervalMs = deps.intervalMs ?? PLACEMENT_SCORE_INTERVAL_MS
  /** Configuration → not asked again before this time (epoch ms). */
  const notBefore = new Map<string, number>()
  let deniedUntil = 0
  let isDenied = false
  let zoneNames: Map<string, string> | null = null
  let saidTooFew = false

  async function zoneNameOf(zoneId: string): Promise<string | null> {
    if (!zoneNames?.has(zoneId)) {
      const answer = await ec2.read('DescribeAvailabilityZones', {})
      zoneNames = new Map(
        items(answer.availabilityZoneInfo).flatMap((z) => {
          const [id, name] = [text(z, 'zoneId'), text(z, 'zoneName')]
          return id && name ? [[id, name] as const] : []
        }),
      )
    }
    return zoneNames.get(zoneId) ?? null
  }

  return {
    get isDenied() {
      return isDenied
    },
    async ask(wanted) {
      const types = [...new Set(wanted)].sort()
      if (types.length < MIN_TYPES) {
        if (!saidTooFew)
          log.info('placement scores not asked: AWS scores fewer than three instance types low', { types })
        saidTooFew = true
        return 'too_few_types'
      }
      const key = types.join(',')
      const now = clock.now()
      if (now < deniedUntil || now < (notBefore.get(key) ?? 0)) return 'not_due'
      try {
        const answer = await ec2.read('GetSpotPlacementScores', placementScoreParams(region, types))
        const scores: PlacementScoreReport['scores'] = []
        for (const item of items(answer.spotPlacementScoreSet)) {
          const zoneId = text(item, 'availabilityZoneId')
          const score = Number(text(item, 'score'))
          const az = zoneId ? await zoneNameOf(zoneId) : null
          if (az && Number.isInteger(score) && score >= 1 && score <= 10) scores.push({ az, score })
        }
        notBefore.set(key, now + intervalMs)
        if (isDenied) log.info('placement scores answered again: capacity joins the risk', { types })
        isDenied = false
        deps.report({ region, instance_types: types, status: 'ok', scores })
        return 'asked'
      } catch (err) {
        if (!(err instanceof Ec2Error)) throw err
        if (err.kind === 'unauthorized') {
          deniedUntil = now + REFUSED_RETRY_MS
          if (!isDenied) {
            log.warn(
              'placement scores denied: the instance profile lacks ec2:GetSpotPlacementScores; the engine weighs interruption history alone (retry in 24 h)',
              { code: err.code },
            )
            deps.report({
              region,
              instance_types: types,
              status: 'denied',
              message: err.message.slice(0, 1000),
              scores: [],
            })
          }
          isDenied = true
          return 'denied'
        }
        if (err.code === 'MaxConfigLimitExceeded') {
          notBefore.set(key, now + REFUSED_RETRY_MS)
          log.warn(
            'placement scores limited: the account used its configurations for the day (retry in 24 h)',
            {
              types,
            },
          )
          deps.report({
            region,
            instance_types: types,
            status: 'limited',
            message: err.message.slice(0, 1000),
            scores: [],
          })
          return 'limited'
        }
        notBefore.set(key, now + FAILED_RETRY_MS)
        throw err
      }
    },
  }
}
