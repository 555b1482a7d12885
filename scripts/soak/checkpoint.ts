/**
 * One check of the soak, every simulated hour and at the end: D1's rows (through the Worker), a snapshot
 * of EC2 with its bill, the invariants (the stateful ones too) and the ledger; keeps the divergences found so far (a lasting one
 * counts once), the orphan instance-hours and the last snapshots.
 */
import type { SimRegion } from '../fleet/region'
import { readD1 } from './d1-reader'
import { DetachedSince, ec2Snapshot, GrowingBill } from './ec2-view'
import { checkInvariants } from './invariants'
import { compareLedger, ledgerDivergences, pricedFrom, type LedgerLine } from './ledger'
import { OrphanClock } from './orphans'
import { mergeDivergences, type FoundDivergence } from './report'
import type { D1Snapshot, Ec2Snapshot, SoakLog } from './snapshot'
import { checkStateful } from './stateful'

export interface CheckpointDeps {
  worker: { url: string; adminToken: string }
  clientId: string
  region: SimRegion
  /** Workload → the allocation id of its Elastic IP. */
  addresses: ReadonlyMap<string, string>
  log: SoakLog
}

export interface Checked {
  ec2: Ec2Snapshot
  d1: D1Snapshot
  ledger: LedgerLine[]
  orphans: string[]
}

/** What the stateful checks found over the run (each counted once). */
export interface DataFound {
  orphanVolumes: Set<string>
  orphanInterfaces: Set<string>
}

export class Checkpoints {
  readonly found = new Map<string, FoundDivergence>()
  readonly orphans = new OrphanClock()
  readonly data: DataFound = { orphanVolumes: new Set(), orphanInterfaces: new Set() }
  private readonly bills = new GrowingBill()
  private readonly detached = new DetachedSince()
  last: Checked | null = null
  count = 0
  /** The longest check, real ms. */
  longestMs = 0

  constructor(private readonly deps: CheckpointDeps) {}

  async check(isFinal: boolean): Promise<Checked> {
    const started = Date.now()
    const { worker, region, log } = this.deps
    const d1 = await readD1(worker.url, worker.adminToken, this.deps.clientId)
    const ec2 = ec2Snapshot(region, {
      addresses: this.deps.addresses,
      pricedFrom: pricedFrom(d1),
      bills: this.bills,
      detached: this.detached,
    })
    const invariants = checkInvariants(ec2, d1, log)
    const stateful = checkStateful(ec2, d1, log)
    for (const id of stateful.orphanVolumes) this.data.orphanVolumes.add(id)
    for (const id of stateful.orphanInterfaces) this.data.orphanInterfaces.add(id)
    const ledger = compareLedger(ec2, d1)
    mergeDivergences(this.found, [
      ...invariants.divergences,
      ...stateful.divergences,
      ...ledgerDivergences(ledger, ec2.at, isFinal),
    ])
    this.orphans.accrue(
      ec2.at,
      ec2.instances.filter((i) => invariants.orphans.includes(i.instanceId)),
    )
    this.count++
    this.longestMs = Math.max(this.longestMs, Date.now() - started)
    this.last = { ec2, d1, ledger, orphans: invariants.orphans }
    return this.last
  }
}
