/**
 * The fake EC2 of the action tests: a fresh server per test on an instant clock, with one workload
 * instance seeded. `clock`, `ec2` and `w` are live bindings that `useSeededEc2` reassigns before each
 * test, so a test file imports them and always reads the running test's world.
 */
import { afterEach, beforeEach } from 'vitest'
import { seedWorkload, startFakeEc2, type FakeEc2, type SeededWorkload } from '../../fakes'
import { instantClock } from './clock'

export let clock: ReturnType<typeof instantClock>
export let ec2: FakeEc2
export let w: SeededWorkload

/** Registers the hooks that start the world before each test of the file and close it after. */
export function useSeededEc2(workload: NonNullable<Parameters<typeof seedWorkload>[1]>): void {
  beforeEach(async () => {
    clock = instantClock()
    ec2 = await startFakeEc2({ clock })
    w = seedWorkload(ec2, workload)
  })
  afterEach(() => ec2.close())
}

/** An interruption notice `id` whose instance ends `inMs` from the running test's clock (AWS: 2 minutes). */
export const interruptionNotice = (id: string, inMs = 120_000) => ({
  kind: 'interruption' as const,
  id,
  action: 'terminate',
  time: new Date(clock.now() + inMs).toISOString(),
})
