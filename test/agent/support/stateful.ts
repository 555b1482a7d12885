/**
 * The stateful-mode action tests' shared parts: the stateful config, a switch command to a pool, and a
 * fake ELBv2 per test beside the seeded EC2 (`elbv2` is a live binding, as in seeded-ec2.ts).
 */
import { afterEach, beforeEach } from 'vitest'
import type { AgentConfig, Command } from '../../../src/protocol'
import { startFakeElbv2, type FakeElbv2 } from '../../fakes'
import { configWith } from './agent-config'
import { ec2 } from './seeded-ec2'

export let elbv2: FakeElbv2

/** Registers the hooks that start a fake ELBv2 on the seeded EC2 before each test and close it after. */
export function useFakeElbv2(): void {
  beforeEach(async () => {
    elbv2 = await startFakeElbv2(ec2)
  })
  afterEach(() => elbv2.close())
}

/** The stateful mode on (drains target groups by default), with `over` on top. */
export const statefulConfig = (over: Partial<AgentConfig> = {}): AgentConfig => ({
  ...configWith(undefined),
  stateful: true,
  ...over,
})

export type SwitchCommand = Extract<Command, { command_type: 'switch' }>

/** A switch command to `pool` (spot), its id `id`. */
export const switchTo = (
  pool: string,
  id = `cmd-switch-${pool}`,
  terminateWaitSeconds = 0,
): SwitchCommand => ({
  id,
  command_type: 'switch',
  instance_id: null,
  target_mode: 'spot',
  target_pool_id: pool,
  priority: 75,
  terminate_wait_seconds: terminateWaitSeconds,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: null,
})
