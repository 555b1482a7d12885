/**
 * The fake ELBv2's world: target groups of instance targets, their registrations, and each target's
 * health by the fake clock. Instances are the linked fake EC2's (read live, never copied).
 */
import type { Clock } from '../clock'

export interface TargetGroup {
  arn: string
  name: string
  vpcId: string
  protocol: string
  port: number
  /** How long a deregistered target drains before it is gone (`deregistration_delay.timeout_seconds`). */
  deregistrationDelayMs: number
  /** How long a registered target stays `initial` before its health checks pass. */
  healthyAfterMs: number
  loadBalancerArns: string[]
  registrations: Registration[]
}

export interface Registration {
  id: string
  port: number
  registeredAt: number
  /** Epoch ms DeregisterTargets was called; the target is gone `deregistrationDelayMs` later. */
  deregisteredAt: number | null
}

/** What happened to targets, in order: tests assert the order against the fake EC2's. */
export interface Elbv2Event {
  at: number
  kind: 'registered' | 'deregistering' | 'drained'
  targetGroupArn: string
  id: string
  port: number
}

/** What the fake needs of an instance: whether it runs, and where. */
export interface InstanceView {
  state: string
  vpcId: string | null
}

export interface Elbv2State {
  region: string
  accountId: string
  clock: Clock
  groups: Map<string, TargetGroup>
  events: Elbv2Event[]
  instance(id: string): InstanceView | undefined
}

export type TargetHealth =
  | { state: 'initial'; reason: 'Elb.RegistrationInProgress'; description: string }
  | { state: 'healthy' }
  | { state: 'draining'; reason: 'Target.DeregistrationInProgress'; description: string }
  | { state: 'unused'; reason: 'Target.NotRegistered' | 'Target.InvalidState'; description: string }

/** A registration's health now (the instance's state first: a stopped or gone one is `unused`). */
export function healthOf(state: Elbv2State, group: TargetGroup, r: Registration): TargetHealth {
  const instance = state.instance(r.id)
  if (r.deregisteredAt !== null)
    return {
      state: 'draining',
      reason: 'Target.DeregistrationInProgress',
      description: 'Target deregistration is in progress',
    }
  if (!instance || instance.state !== 'running')
    return {
      state: 'unused',
      reason: 'Target.InvalidState',
      description: `Target is in the ${instance?.state ?? 'terminated'} state`,
    }
  if (state.clock.now() < r.registeredAt + group.healthyAfterMs)
    return {
      state: 'initial',
      reason: 'Elb.RegistrationInProgress',
      description: 'Target registration is in progress',
    }
  return { state: 'healthy' }
}

export const NOT_REGISTERED: TargetHealth = {
  state: 'unused',
  reason: 'Target.NotRegistered',
  description: 'Target is not registered to the target group',
}

/** Removes the targets whose draining is over by the clock. */
export function tick(state: Elbv2State): void {
  const now = state.clock.now()
  for (const group of state.groups.values()) {
    group.registrations = group.registrations.filter((r) => {
      if (r.deregisteredAt === null || now < r.deregisteredAt + group.deregistrationDelayMs) return true
      state.events.push({
        at: r.deregisteredAt + group.deregistrationDelayMs,
        kind: 'drained',
        targetGroupArn: group.arn,
        id: r.id,
        port: r.port,
      })
      return false
    })
  }
}
