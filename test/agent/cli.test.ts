import { describe, expect, it } from 'vitest'
import { runCheck } from '../../agent/src/check'
import { useCheckWorld } from './support/check-world'
import { startAgentProcess } from './support/process'

const world = useCheckWorld()

const env = (token: string) => world.env(token)

/** Everything EC2 holds that a dry run must leave alone. */
const ec2World = () =>
  JSON.stringify([
    ...world.ec2.state.instances.values(),
    ...world.ec2.state.images.values(),
    ...world.ec2.state.addresses.values(),
  ])

describe('--check', () => {
  it('passes with a readable report when everything answers', async () => {
    const lines: string[] = []
    expect(await runCheck(env('good-token'), (l) => lines.push(l))).toBe(true)
    const report = lines.join('\n')
    expect(report).toMatch(/\[ OK \] instance metadata \(IMDSv2\): i-\w+ t3\.medium spot in us-east-1a/)
    expect(report).toMatch(/\[ OK \] AWS credentials: instance profile/)
    expect(report).toMatch(/\[ OK \] EC2 API: reachable in us-east-1/)
    expect(report).toMatch(/\[ OK \] client token: accepted/)
    expect(report).not.toContain('good-token')
  })

  it('proves every AWS permission the agent needs by name: describes by a real call, changes by DryRun, nothing changed', async () => {
    const before = ec2World()
    world.ec2.clearLog()
    const lines: string[] = []
    expect(await runCheck(env('good-token'), (l) => lines.push(l))).toBe(true)
    const report = lines.join('\n')
    for (const action of [
      'DescribeInstances',
      'DescribeInstanceStatus',
      'DescribeInstanceAttribute',
      'DescribeImages',
      'DescribeSnapshots',
      'DescribeSubnets',
      'DescribeAddresses',
      'DescribeSpotPriceHistory',
      'DescribeAvailabilityZones',
    ]) {
      expect(report).toContain(`[ OK ] ec2:${action}: answered`)
    }
    expect(report).toContain('[ OK ] pricing:GetProducts: answered')
    for (const action of [
      'RunInstances',
      'CreateImage',
      'CreateTags',
      'TerminateInstances',
      'AssociateAddress',
      'DeregisterImage',
    ]) {
      expect(report).toContain(`[ OK ] ec2:${action}: allowed (DryRun)`)
    }
    expect(report).toMatch(
      /\[ OK \] ec2:DeleteSnapshot: allowed \(EC2 authorized it, then answered InvalidSnapshot.InUse/,
    )
    expect(report).toContain('[ OK ] ec2:GetSpotPlacementScores: allowed (DryRun)')
    // The dry run used none of the account's placement configurations of the day.
    expect(world.ec2.state.placementConfigs.size).toBe(0)
    expect(report).toMatch(/\[ OK \] logical identity: agent-web-1 \(from the instance tag LogicalAgentId\)/)
    const writes = world.ec2.requests.filter((r) => !r.action.startsWith('Describe'))
    expect(writes.map((r) => [r.action, r.params.DryRun, r.code])).toEqual(
      [
        'GetSpotPlacementScores',
        'RunInstances',
        'CreateImage',
        'CreateTags',
        'TerminateInstances',
        'AssociateAddress',
        'DeregisterImage',
        'DeleteSnapshot',
        // The stateful mode's, with nothing of its own here yet: what it would create.
        'CreateVolume',
        'CreateNetworkInterface',
      ].map((a) => [a, 'true', a === 'DeleteSnapshot' ? 'InvalidSnapshot.InUse' : 'DryRunOperation']),
    )
    expect(ec2World()).toBe(before)
  })

  it('proves the draining permissions of ELBv2 as optional: named when missing, the check still passes', async () => {
    world.elbv2.requests.length = 0
    const lines: string[] = []
    expect(await runCheck(env('good-token'), (l) => lines.push(l))).toBe(true)
    expect(lines).toEqual(
      expect.arrayContaining([
        '  [ OK ] elasticloadbalancing:DescribeTargetGroups: answered',
        '  [ OK ] elasticloadbalancing:DescribeTargetHealth: answered',
        '  [ OK ] elasticloadbalancing:RegisterTargets: allowed (ELBv2 authorized it, then refused a target that cannot exist)',
        '  [ OK ] elasticloadbalancing:DeregisterTargets: allowed (ELBv2 authorized it, then refused a target that cannot exist)',
      ]),
    )
    // Nothing registered or drained by the probes.
    expect(world.elbv2.events).toEqual([])
    world.elbv2.deny('DeregisterTargets')
    try {
      const denied: string[] = []
      expect(await runCheck(env('good-token'), (l) => denied.push(l))).toBe(true)
      expect(denied).toContain('  [SKIP] elasticloadbalancing:DeregisterTargets: missing (AccessDenied)')
      expect(denied).toContain(
        'Missing for the stateful mode only (draining, snapshots): elasticloadbalancing:DeregisterTargets',
      )
    } finally {
      world.elbv2.allow('DeregisterTargets')
    }
  })

  it('fails naming each missing permission', async () => {
    world.ec2.deny('TerminateInstances')
    world.ec2.deny('CreateImage')
    world.ec2.deny('DescribeAddresses')
    try {
      const lines: string[] = []
      expect(await runCheck(env('good-token'), (l) => lines.push(l))).toBe(false)
      const report = lines.join('\n')
      expect(report).toContain('[FAIL] ec2:TerminateInstances: missing (UnauthorizedOperation)')
      expect(report).toContain('[FAIL] ec2:CreateImage: missing (UnauthorizedOperation)')
      expect(report).toContain('[FAIL] ec2:DescribeAddresses: missing (UnauthorizedOperation)')
      expect(report).toContain('[ OK ] ec2:RunInstances: allowed (DryRun)')
      expect(lines.at(-2)).toBe(
        'Missing permissions: ec2:DescribeAddresses, ec2:CreateImage, ec2:TerminateInstances',
      )
      const bundle = startAgentProcess(env('good-token'), ['--check'])
      expect(await bundle.exited).toBe(1)
      expect(bundle.lines.map((l) => l.msg)).toContain(
        'Missing permissions: ec2:DescribeAddresses, ec2:CreateImage, ec2:TerminateInstances',
      )
    } finally {
      for (const action of ['TerminateInstances', 'CreateImage', 'DescribeAddresses']) world.ec2.allow(action)
    }
  })

  it('passes with a warning when ec2:GetSpotPlacementScores is missing: capacity falls back to history', async () => {
    world.ec2.deny('GetSpotPlacementScores')
    try {
      const lines: string[] = []
      expect(await runCheck(env('good-token'), (l) => lines.push(l))).toBe(true)
      expect(lines).toContain(
        '  [WARN] ec2:GetSpotPlacementScores: missing (UnauthorizedOperation): capacity scores fall back to the interruption history',
      )
      expect(lines.some((l) => l.startsWith('Missing permissions'))).toBe(false)
      expect(lines.at(-1)).toBe('All checks passed.')
      const bundle = startAgentProcess(env('good-token'), ['--check'])
      expect(await bundle.exited).toBe(0)
    } finally {
      world.ec2.allow('GetSpotPlacementScores')
    }
  })

  it('fails on a refused token', async () => {
    const lines: string[] = []
    expect(await runCheck(env('bad-token'), (l) => lines.push(l))).toBe(false)
    expect(lines.join('\n')).toMatch(/\[FAIL\] client token: refused \(401\)/)
  })

  it('fails on a configuration error, naming it', async () => {
    const lines: string[] = []
    expect(await runCheck({}, (l) => lines.push(l))).toBe(false)
    expect(lines.join('\n')).toMatch(/\[FAIL\] configuration: SPOT_OPTIMIZER_SERVER_URL is required/)
  })
})

describe('the bundle', () => {
  it('prints its version with no environment at all', async () => {
    const p = startAgentProcess({}, ['--version'])
    expect(await p.exited).toBe(0)
    expect(p.lines.map((l) => l.msg)).toEqual(['5.0.0'])
  })

  it('refuses to start without its configuration, with exit code 78 and every problem named', async () => {
    const p = startAgentProcess({ HEARTBEAT_INTERVAL: 'x' })
    expect(await p.exited).toBe(78)
    const err = p.stderr.join('')
    expect(err).toContain('SPOT_OPTIMIZER_SERVER_URL is required')
    expect(err).toContain('HEARTBEAT_INTERVAL must be a positive number of seconds')
  })

  it('--check exits 0 when all checks pass and 1 when one fails', async () => {
    const good = startAgentProcess(env('good-token'), ['--check'])
    expect(await good.exited).toBe(0)
    const bad = startAgentProcess(env('bad-token'), ['--check'])
    expect(await bad.exited).toBe(1)
  })
})

describe('--check of the stateful mode', () => {
  const STATEFUL_CHANGES = [
    'CreateSnapshot',
    'DetachVolume',
    'AttachVolume',
    'CreateVolume',
    'DeleteVolume',
    'CreateNetworkInterface',
    'AttachNetworkInterface',
    'DetachNetworkInterface',
    'ModifyNetworkInterfaceAttribute',
    'DeleteNetworkInterface',
  ]
  const statefulWorld = () =>
    JSON.stringify([...world.ec2.state.volumes.values(), ...world.ec2.state.networkInterfaces.values()])

  it('proves every permission of the stateful mode on its volume and interface, and fails naming one the role lacks', async () => {
    // Last in the file: a data volume and the managed interface stay on the instance.
    const instance = world.ec2.state.instances.get(world.instanceId)!
    const volumeId = world.ec2.seed.addVolume({ instanceId: world.instanceId, device: '/dev/sdf' })
    world.ec2.seed.addNetworkInterface({
      subnetId: instance.subnetId,
      instanceId: world.instanceId,
      deviceIndex: 1,
      tags: { SpotGuardRole: 'workload-interface', SpotGuardAgentId: 'agt-1' },
    })
    const before = statefulWorld()
    world.ec2.clearLog()
    const lines: string[] = []
    expect(await runCheck(env('good-token'), (l) => lines.push(l), { stateful: true })).toBe(true)
    expect(lines).toEqual(
      expect.arrayContaining([
        '  [ OK ] ec2:DescribeVolumes: answered',
        '  [ OK ] ec2:DescribeNetworkInterfaces: answered',
        '  [ OK ] elasticloadbalancing:DeregisterTargets: allowed (ELBv2 authorized it, then refused a target that cannot exist)',
      ]),
    )
    const report = lines.join('\n')
    for (const action of STATEFUL_CHANGES)
      expect(report).toMatch(new RegExp(`\\[ OK \\] ec2:${action}: allowed`))
    expect(report).toContain(
      '[ OK ] ec2:AttachVolume: allowed (EC2 authorized it, then answered VolumeInUse: it is in use)',
    )
    // Every change a dry run: the volume and the interface are where they were.
    const stateful = world.ec2.requests.filter((r) => STATEFUL_CHANGES.includes(r.action))
    expect(stateful.map((r) => r.action).sort()).toEqual([...STATEFUL_CHANGES].sort())
    for (const r of stateful) expect(r.params.DryRun).toBe('true')
    expect(statefulWorld()).toBe(before)

    world.ec2.deny('AttachVolume')
    try {
      const denied: string[] = []
      expect(await runCheck(env('good-token'), (l) => denied.push(l), { stateful: true })).toBe(false)
      expect(denied).toContain('  [FAIL] ec2:AttachVolume: missing (UnauthorizedOperation)')
      expect(denied).toContain('Missing permissions: ec2:AttachVolume')
      // Off (as far as --check knows): named, the check passes.
      const off: string[] = []
      expect(await runCheck(env('good-token'), (l) => off.push(l))).toBe(true)
      expect(off).toContain('  [SKIP] ec2:AttachVolume: missing (UnauthorizedOperation)')
      expect(off).toContain('Missing for the stateful mode only (draining, snapshots): ec2:AttachVolume')
      // Its volume tagged by the mode's inventory: the mode runs here, so the permission is required.
      world.ec2.state.volumes.get(volumeId)!.tags.SpotGuardRole = 'data-volume'
      const running: string[] = []
      expect(await runCheck(env('good-token'), (l) => running.push(l))).toBe(false)
      expect(running).toContain('  [FAIL] ec2:AttachVolume: missing (UnauthorizedOperation)')
    } finally {
      world.ec2.allow('AttachVolume')
    }
  })
})
