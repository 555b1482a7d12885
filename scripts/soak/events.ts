/**
 * Firing the soak's events on the running world: notices and recommendations to a workload's primary
 * (EC2's truth: the instance holding its Elastic IP), agent kills, the Worker restart, capacity errors
 * in a zone, and the one D1 row corrupted by --inject-divergence.
 */
import type { TestWorker } from '../../test/support/worker'
import type { Fleet } from '../fleet/fleet'
import { corruptD1 } from './d1-reader'
import type { SoakEvent } from './schedule'
import type { SoakLog } from './snapshot'

const NOTICE_SECONDS = 120

export interface EventCounts {
  interruptions: number
  rebalances: number
  kills: number
  restarts: number
  capacity_errors: number
}

export interface Injected {
  /** ISO time, simulated. */
  time: string
  workload: string
  /** Marked terminated in D1 while EC2 runs it. */
  instance_id: string
}

export interface EventContext {
  worker: TestWorker
  fleet: Fleet
  clientId: string
  speed: number
  log: SoakLog
  counts: EventCounts
  /** Workload → the allocation id of its Elastic IP. */
  addresses: ReadonlyMap<string, string>
  /** Work that outlasts one loop of the soak (the Worker restart): the loop goes on meanwhile. */
  background(work: () => Promise<void>): void
  /** Real seconds the Worker restart took, once done. */
  restartRealSeconds: number | null
  /** The D1 row corrupted on purpose (--inject-divergence), once done. */
  injected: Injected | null
  say(line: string): void
}

/** The instance a workload runs on per EC2: the holder of its Elastic IP, else the fleet's best guess. */
export function primaryOf(ctx: EventContext, workload: string): string | undefined {
  const { ec2 } = ctx.fleet.region
  const holder = ec2.state.addresses.get(ctx.addresses.get(workload) ?? '')?.instanceId
  if (holder && ec2.instance(holder)?.state === 'running') return holder
  return ctx.fleet.primaryOf(workload)
}

export async function fireEvent(ctx: EventContext, event: SoakEvent): Promise<void> {
  const { region, supervisor } = ctx.fleet
  const now = region.clock.now()
  const workload = 'workload' in event ? ctx.fleet.logicalAgentIds[event.workload]! : null
  const target = workload ? primaryOf(ctx, workload) : undefined
  if (workload && !target) {
    ctx.say(`${event.kind} of ${workload} skipped: it runs nowhere`)
    return
  }
  switch (event.kind) {
    case 'interrupt':
      region.interrupt(target!, NOTICE_SECONDS)
      ctx.log.notices.push({
        workload: workload!,
        instanceId: target!,
        sentAt: now,
        terminationAt: now + NOTICE_SECONDS * 1000,
      })
      ctx.counts.interruptions++
      return
    case 'rebalance':
      region.rebalance(target!)
      ctx.counts.rebalances++
      return
    case 'kill': {
      if (!supervisor.running().some((r) => r.instanceId === target)) {
        ctx.say(`kill of ${workload} skipped: no agent runs on ${target}`)
        return
      }
      await supervisor.kill(target!)
      ctx.counts.kills++
      return
    }
    case 'restart': {
      const outage: [number, number | null] = [now, null]
      ctx.log.outages.push(outage)
      ctx.counts.restarts++
      ctx.say('restarting the Worker (same persist dir and SIM_CLOCK)...')
      ctx.background(async () => {
        const startedReal = Date.now()
        await ctx.worker.restart()
        outage[1] = region.clock.now()
        ctx.restartRealSeconds = (Date.now() - startedReal) / 1000
        ctx.say(
          `the Worker is back after ${ctx.restartRealSeconds.toFixed(1)} s (${((outage[1] - outage[0]) / 60_000).toFixed(1)} simulated minutes)`,
        )
      })
      return
    }
    case 'capacity': {
      const az = region.zones[event.zone]!
      const stop = region.ec2.failWhen('RunInstances', (params) => {
        const launchAz =
          params.get('Placement.AvailabilityZone') ??
          region.ec2.state.subnets.get(params.get('SubnetId') ?? '')?.az
        if (params.get('InstanceMarketOptions.MarketType') !== 'spot' || launchAz !== az) return undefined
        return {
          code: 'InsufficientInstanceCapacity',
          message: `There is no Spot capacity available that matches your request in ${az}.`,
        }
      })
      setTimeout(stop, event.forMs / ctx.speed).unref()
      ctx.counts.capacity_errors++
      return
    }
    case 'inject': {
      const changed = await corruptD1(
        ctx.worker.persistDir,
        `update instances set status = 'terminated', terminated_at = ?1, updated_at = ?1 where client_id = ?2 and instance_id = ?3`,
        now,
        ctx.clientId,
        target,
      )
      if (changed === 0) {
        ctx.say(`inject: D1 has no instance row ${target} (${workload}) to corrupt`)
        return
      }
      ctx.injected = { time: new Date(now).toISOString(), workload: workload!, instance_id: target! }
      ctx.say(`injected: ${target} (${workload}) marked terminated in D1 while EC2 runs it`)
      return
    }
    default: {
      const never: never = event
      return never
    }
  }
}
