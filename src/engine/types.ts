/** Inputs and output of the decision engine: plain data, so the same code runs in the Worker and the backtest. */
import type { Workload } from './compatibility'
import type { Thresholds } from './params'

export type Mode = 'spot' | 'ondemand'

/** Where the workload runs: on-demand has no pool in the engine's sense (pool_id null). */
export interface Placement {
  mode: Mode
  poolId: string | null
}

/** What the engine knows of one spot pool (an instance type in an AZ) of the agent's region. */
export interface PoolQuote {
  poolId: string
  az: string
  /** The pool's instance type; absent: the agent's own type. */
  instanceType?: string
  /** On-demand price of the pool's type, USD/h (its spot/on-demand ratio); absent: the input's. */
  onDemandPrice?: number
  /** Current spot price, USD/h. */
  price: number
  /** When the price was last confirmed (epoch ms): freshness. */
  seenAt: number
  /** Time-weighted coefficient of variation of the price over 24 h. */
  volatility24h: number
  /** Time-weighted mean price over 24 h, USD/h (`price_memory`); absent: the current price. */
  mean24h?: number
  /**
   * Time-weighted mean price of each of the last 24 hours, oldest first, USD/h (null: no price that
   * hour): how long a gap between two pools has lasted (gap-persistence.ts). Absent: not known.
   */
  hourly24h?: ReadonlyArray<number | null>
  /** Relative price change over the last hour (0.1 = +10 %). */
  trend1h: number
  /** Interruption notices in this pool in 30 days: the client's own, plus one per other client. */
  interruptions30d: number
  /** Rebalance recommendations in this pool in 30 days: the client's own, plus one per other client. */
  rebalances30d: number
  /** Of those, how many were followed by an interruption notice of the same instance within 2 h. */
  rebalancesFollowed30d: number
  /**
   * Hours the fleet's spot instances lived here in the last 30 days (clipped to the window), split by how
   * their life ended: by an interruption notice, or not (still running, or ended otherwise: censored).
   */
  livedHoursInterrupted30d: number
  livedHoursCensored30d: number
  /** How many of those lives ended by an interruption notice. */
  livesInterrupted30d: number
  /** Last interruption here this client trusts (its own, or once 3 clients saw one; epoch ms). */
  lastInterruptionAt: number | null
  /** Last launch here that failed for lack of capacity, trusted as lastInterruptionAt (epoch ms). */
  lastCapacityErrorAt: number | null
  /**
   * The client's latest spot placement score of the pool's AZ for the types its agent prices (1-10), and
   * its age at the engine's now, hours (capacity.ts); absent or null: none known.
   */
  placementScore?: { score: number; ageHours: number } | null
  /** The client's own launches here that failed for lack of capacity in the last 24 h (switch or replica). */
  capacityErrors24h?: number
}

export interface EngineInput {
  /** Epoch ms. */
  now: number
  agent: { enabled: boolean; online: boolean; commandInFlight: boolean }
  current: Placement & {
    /** Start of the current placement, epoch ms. */
    since: number
    /** Imposed by an interruption (failover), not chosen: the minimum stay does not hold. */
    imposed?: boolean
  }
  /** On-demand price of the placement the workload falls back to (its own type) in its region, USD/h. */
  onDemandPrice: number
  /**
   * Pools of the region, per (type, AZ). Without `workload` all are taken as the agent's own type; with
   * it, a pool of another type is a candidate only when the type rule lets the workload run there.
   */
  pools: PoolQuote[]
  /** The workload's base type, image and allow-list (compatibility.ts); absent: one-type market. */
  workload?: Workload
  /** Times of the agent's counted (non-emergency) switches, epoch ms, any order. */
  switchTimes: number[]
  /**
   * When the workload left spot for on-demand within the last 7 days (an interruption's failover, a
   * switch to on-demand), epoch ms, any order: the way back to spot and its flapping budget
   * (back-to-spot.ts). Absent: none.
   */
  spotExits?: number[]
  excludedZones?: string[]
  /**
   * A stateful workload's AZ: its data volumes are bound to it and the agent refuses a switch elsewhere
   * (moving them by snapshot is not built), so only pools in this AZ are candidates. Absent: any AZ.
   */
  statefulAz?: string
  thresholds: Thresholds
}

export const DECISIONS = ['stay', 'switch_pool', 'to_spot', 'to_ondemand'] as const
export type DecisionKind = (typeof DECISIONS)[number]

/** Why a decision was not acted on. */
export type BlockReason =
  | 'agent_disabled'
  | 'agent_offline'
  | 'unknown_placement'
  | 'command_in_flight'
  | 'cooldown'
  | 'daily_cap'
  | 'weekly_cap'
  | 'switch_reserve'
  | 'min_pool_duration'
  | 'min_savings'
  | 'hysteresis'
  | 'flapping_budget'
  | 'gap_not_lasting'

/**
 * Why the engine wants its target: back to spot after the workload left it (back-to-spot.ts), away
 * from a current pool above the risk threshold, or a better risk-adjusted price.
 */
export const REASON_CODES = ['back_to_spot', 'risky_pool', 'better_value'] as const
export type ReasonCode = (typeof REASON_CODES)[number]

/** A placement the engine considered; a spot target names its pool's type and AZ when the quote named its type. */
export interface Target extends Placement {
  instanceType?: string
  az?: string
}

export interface Decision {
  /** The action to take now; `stay` whenever something blocks the best move. */
  decision: DecisionKind
  /** The best placement considered (also when blocked), or null when there was none. */
  target: Target | null
  /** Price saving per hour of the target against the current placement, USD/h. */
  expected_savings_per_hour: number
  /** Risk (0-1) of the target. */
  risk: number
  /** 0-1: how sure the engine is (data freshness and margin). */
  confidence: number
  /** True when the current pool is above the risk threshold: priority 50 and no minimum stay. */
  urgent: boolean
  /** Why the target was chosen (also when blocked); null when staying is the best value. */
  reason_code: ReasonCode | null
  reasons: string[]
  blocked_by: BlockReason[]
}

/** What the engine knows of the market of one instance type and region (db/queries/market.ts reads it). */
export interface Market {
  instanceType: string
  region: string
  onDemandPrice: number | null
  pools: PoolQuote[]
}
