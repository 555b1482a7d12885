/**
 * A stateful switch's record: what its report's `stateful` object adds to the switch row (the data
 * loss bound, the private address before and after, the timed steps and the volume moves). Pure.
 */
import type { StatefulDetail, Switch } from '../../db/schema'
import type { StatefulSwitchReport, SwitchStep } from '../../protocol'

export interface StatefulRecord {
  /** At most this many seconds of writes lost; 0: none; null: not known. */
  dataLossBoundSeconds: number | null
  address: { interfaceId: string; oldPrivateIp: string; newPrivateIp: string; changed: boolean } | null
  detail: StatefulDetail
}

/** The report's `stateful` object (validated by the route) in the switch row's terms. */
export function statefulRecordOf(wire: StatefulSwitchReport): StatefulRecord {
  return {
    dataLossBoundSeconds:
      wire.data_loss_bound_seconds === null ? null : Math.round(wire.data_loss_bound_seconds),
    address: wire.address && {
      interfaceId: wire.address.eni_id,
      oldPrivateIp: wire.address.old_private_ip,
      newPrivateIp: wire.address.new_private_ip,
      changed: wire.address.changed,
    },
    detail: {
      steps: stepsOf(wire.steps),
      volumes: wire.volumes.map((v) => ({
        device: v.device,
        oldVolumeId: v.old_volume_id,
        newVolumeId: v.new_volume_id,
        how: v.how,
      })),
      downtimeMs: wire.downtime_ms ?? null,
    },
  }
}

/** Timed steps as stored (a switch's, or a notice's drain in its event's `detail.drainSteps`). */
export function stepsOf(wire: readonly SwitchStep[]): StatefulDetail['steps'] {
  return wire.map((s) => ({
    name: s.name,
    startedAt: Date.parse(s.started_at),
    ms: s.ms,
    ok: s.ok,
    detail: s.detail ?? null,
  }))
}

export type StatefulColumns = Pick<
  Switch,
  | 'dataLossBoundSeconds'
  | 'interfaceId'
  | 'oldPrivateIp'
  | 'newPrivateIp'
  | 'addressChanged'
  | 'statefulDetail'
>

/** The switch row's stateful columns: all NULL for a stateless switch. */
export function statefulColumns(record: StatefulRecord | null): StatefulColumns {
  return {
    dataLossBoundSeconds: record?.dataLossBoundSeconds ?? null,
    interfaceId: record?.address?.interfaceId ?? null,
    oldPrivateIp: record?.address?.oldPrivateIp ?? null,
    newPrivateIp: record?.address?.newPrivateIp ?? null,
    addressChanged: record?.address?.changed ?? null,
    statefulDetail: record?.detail ?? null,
  }
}

/**
 * True while the row's stateful detail holds only a notice's drain steps (flows/replicas/notice-drain.ts
 * may record them before the switch's own report): that report's record is still to be learnt.
 */
export function holdsOnlyDrainSteps(row: Pick<Switch, 'statefulDetail' | 'interfaceId'>): boolean {
  const held = row.statefulDetail
  return held !== null && held.volumes.length === 0 && held.downtimeMs === null && row.interfaceId === null
}

/** `record` with the steps already held on the row (a drain's) kept, each once, in time order. */
export function withHeldSteps(record: StatefulRecord, held: StatefulDetail | null): StatefulRecord {
  if (!held) return record
  const key = (step: StatefulDetail['steps'][number]) => `${step.name}@${step.startedAt}`
  const known = new Set(record.detail.steps.map(key))
  const steps = [...held.steps.filter((step) => !known.has(key(step))), ...record.detail.steps]
  return { ...record, detail: { ...record.detail, steps: steps.sort((a, b) => a.startedAt - b.startedAt) } }
}
