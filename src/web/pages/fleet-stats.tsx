/** Stat cards over FleetTotals that the admin overview and a client's overview both show. */
import type { FleetTotals } from '../../db/queries/overview'
import { pct, Stat, usd } from '../ui/bits'

/**
 * Month-to-date and lifetime savings from the ledger. The lifetime card's caption is worded per
 * reader: `noDayYet` while nothing has run, else the percent saved followed by `shareWording`.
 */
export function SavingsStats(props: { totals: FleetTotals; noDayYet: string; shareWording: string }) {
  const s = props.totals.savings
  return (
    <>
      <Stat label="Saved this month" value={usd(s.monthToDate)} sub={`projected ${usd(s.projectedMonth)}`} />
      <Stat
        label="Saved, lifetime"
        value={usd(s.lifetime)}
        sub={s.percentSaved === null ? props.noDayYet : `${pct(s.percentSaved)} ${props.shareWording}`}
      />
    </>
  )
}

/** All switches, split by what made them (a person, the engine, an interruption). */
export function SwitchesStat(props: { totals: FleetTotals }) {
  const t = props.totals
  return (
    <Stat
      label="Switches"
      value={t.totalSwitches}
      sub={`${t.manualSwitches} manual · ${t.modelSwitches} engine · ${t.interruptionSwitches} interruption`}
    />
  )
}
