/**
 * The soak's stateful workloads (--stateful): a data volume seeded on each one's first instance
 * (DeleteOnTermination=false, tagged SEEDED_FOR), the stateful mode turned on for its agent through the
 * client API once the agent has registered, and every simulated minute a record appended through the
 * fake EC2 on the data volumes attached to the current primaries (never a replica). What was written is
 * logged (first and last record per instance and device): the checker's ground truth of the writes.
 */
import type { TestWorker } from '../../test/support/worker'
import type { Fleet } from '../fleet/fleet'
import { readD1 } from './d1-reader'
import type { SoakLog } from './snapshot'
import { SEEDED_FOR } from './stateful'

/** Where the seeded data volume is attached. */
export const DATA_DEVICE = '/dev/sdf'
/** The stateful agents' RPO (the control plane's default). */
export const SOAK_RPO_MINUTES = 15
const MINUTE = 60_000
/** Real ms between two tries at turning the stateful mode on while some agents have not registered. */
const ENABLE_EVERY_MS = 2_000

export interface StatefulDeps {
  fleet: Fleet
  worker: TestWorker
  clientId: string
  log: SoakLog
  /** The instance a workload runs on per EC2 (events.ts primaryOf). */
  primaryOf(workload: string): string | undefined
  say(line: string): void
}

export class StatefulWorkloads {
  /** Workloads whose agent has not been turned stateful yet. */
  private readonly pending: Set<string>
  private nextWriteAt: number
  private triedAt = 0

  constructor(
    private readonly deps: StatefulDeps,
    readonly workloads: readonly string[],
  ) {
    this.pending = new Set(workloads)
    this.nextWriteAt = deps.fleet.region.clock.now() + MINUTE
  }

  /** Seeds each workload's data volume on its running instance and tells the checker which workloads are stateful. */
  seed(): void {
    const { ec2 } = this.deps.fleet.region
    for (const workload of this.workloads) {
      const instanceId = this.deps.fleet.primaryOf(workload)
      if (!instanceId)
        throw new Error(`stateful soak: ${workload} has no running instance to seed a volume on`)
      ec2.seed.addVolume({
        instanceId,
        device: DATA_DEVICE,
        size: 20,
        deleteOnTermination: false,
        tags: { [SEEDED_FOR]: workload, Name: `${workload}-data` },
      })
      this.deps.log.stateful[workload] = SOAK_RPO_MINUTES
    }
  }

  /** One loop of the soak: turns agents stateful once they registered, writes when a simulated minute passed. */
  async tick(now: number): Promise<void> {
    if (this.pending.size > 0 && Date.now() - this.triedAt >= ENABLE_EVERY_MS) {
      this.triedAt = Date.now()
      await this.enable()
    }
    if (now < this.nextWriteAt) return
    this.nextWriteAt = now - (now % MINUTE) + MINUTE
    this.write()
  }

  private async enable(): Promise<void> {
    const { worker, clientId } = this.deps
    const d1 = await readD1(worker.url, worker.adminToken, clientId)
    for (const agent of d1.agents) {
      if (!this.pending.has(agent.logicalAgentId)) continue
      const response = await worker.admin(`/api/client/agents/${agent.id}/config`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ stateful: true, rpoMinutes: SOAK_RPO_MINUTES }),
      })
      if (!response.ok)
        throw new Error(
          `stateful soak: config of ${agent.logicalAgentId}: HTTP ${response.status} ${await response.text()}`,
        )
      this.pending.delete(agent.logicalAgentId)
      this.deps.say(`${agent.logicalAgentId} is stateful (RPO ${SOAK_RPO_MINUTES} min)`)
    }
  }

  /** A record on every data volume attached to the stateful workloads' primaries. */
  private write(): void {
    const { fleet, log } = this.deps
    const primaries = new Map(
      this.workloads.flatMap((w) => {
        const instanceId = this.deps.primaryOf(w)
        return instanceId ? [[instanceId, w] as const] : []
      }),
    )
    for (const record of fleet.region.ec2.writeWorkloads({ instanceIds: [...primaries.keys()] })) {
      const { device } = record
      const written = { seq: record.seq, at: record.at, instanceId: record.instanceId, data: record.data }
      const key = `${record.instanceId} ${device}`
      const seen = log.writes[key]
      log.writes[key] = {
        workload: primaries.get(record.instanceId)!,
        instanceId: record.instanceId,
        device,
        first: seen?.first ?? written,
        last: written,
      }
    }
  }
}
