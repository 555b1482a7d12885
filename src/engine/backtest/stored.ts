/**
 * A backtest run as stored and shown: `inputs` holds what was asked and the trace it became,
 * `strategies` the report's table rows.
 */
import type { BacktestReport, StrategyRow } from './report'

export interface BacktestInputs {
  instance_type: string
  region: string
  days: number
  on_demand_price: number
  on_demand_source: 'stored' | 'request'
  trace: BacktestReport['trace']
  caps: BacktestReport['caps']
}

export interface BacktestRun {
  id: string
  params_version: number
  inputs: BacktestInputs
  strategies: StrategyRow[]
  created_by: string | null
  created_at: number
}
