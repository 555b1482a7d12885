/**
 * Invariant (f): no command launched twice. Instances are grouped by what launched them (ec2-view.ts
 * `launchKeyOf`: a switch's command, a replica's id, else the ClientToken); a group spanning more than
 * one reservation is a duplicate (a retried launch with the same ClientToken is the same reservation).
 */
import { ids, type Facts } from './facts'
import type { Ec2Instance, Ec2Snapshot } from './snapshot'

export function checkLaunches(f: Facts): void {
  for (const [key, instances] of launchesOf(f.ec2)) {
    const reservations = new Set(instances.map((i) => i.reservationId)).size
    if (reservations > 1)
      f.diverge(
        'f',
        instances[0]!.workload,
        `launch:${key}`,
        `${reservations} launches for ${key}: ${ids(instances)}`,
        '',
      )
  }
}

/** Launches beyond the first for one command (the sum over every launch key). */
export function duplicateLaunches(ec2: Ec2Snapshot): number {
  let extra = 0
  for (const instances of launchesOf(ec2).values())
    extra += new Set(instances.map((i) => i.reservationId)).size - 1
  return extra
}

function launchesOf(ec2: Ec2Snapshot): Map<string, Ec2Instance[]> {
  const launches = new Map<string, Ec2Instance[]>()
  for (const i of ec2.instances) {
    if (!i.launchKey) continue
    if (!launches.has(i.launchKey)) launches.set(i.launchKey, [])
    launches.get(i.launchKey)!.push(i)
  }
  return launches
}
