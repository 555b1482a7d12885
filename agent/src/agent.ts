/**
 * The agent's life: its instance from IMDS, its state claimed for that instance, its logical identity
 * (identity.ts), registration (retried with backoff, never fatal; passive while a standby replica),
 * then the loops (heartbeat, config, commands by socket with polling fallback, pricing, replicas,
 * cleanup, backup image, rolling snapshots, monitors) until SIGTERM, when it finishes or abandons
 * cleanly and says it goes offline.
 */
import type { AgentConfig } from '../../src/protocol'
import type { ActionContext } from './actions/context'
import { BACKUP_CHECK_SECONDS, backupImages } from './actions/backup-image'
import { statefulStart } from './actions/stateful/establish'
import { runCleanup } from './actions/cleanup'
import { LOCAL_REPLICA_PREFIX, reportOwnEmergencyLaunch } from './actions/emergency-tags'
import { launchReplica } from './actions/replica'
import { handleNotice } from './actions/notices'
import { SNAPSHOT_CHECK_SECONDS, rollingSnapshots } from './actions/stateful/snapshots'
import { backoffMs, type Clock } from './clock'
import type { Config } from './config'
import type { Ec2 } from './ec2-transport'
import type { Elbv2 } from './elbv2'
import type { Host } from './host'
import type { Imds } from './imds'
import { createHeartbeat } from './heartbeat'
import { findIdentity } from './identity'
import { register, registrationBody } from './registration'
import type { Link } from './link'
import type { Log } from './log'
import { createIntake, type Intake } from './commands'
import { readInterruption } from './monitors/interruption'
import { readRebalance } from './monitors/rebalance'
import { readScheduledEvents } from './monitors/scheduled'
import { createWatcher, type Monitor } from './monitors/watcher'
import { createPlacementScores } from './placement-scores'
import { pricingReport, type Pricing } from './pricing'
import type { State } from './state'
import { AGENT_VERSION } from './version'
import { readWorkloadImage } from './workload-image'

/** How far back of its previous report a report's change points start, ms. */
const HISTORY_OVERLAP_MS = 5 * 60_000

export interface AgentDeps {
  config: Config
  imds: Imds
  ec2: (region: string) => Ec2
  elbv2: (region: string) => Elbv2
  host: Host
  pricing: (ec2: Ec2) => Pricing
  link: Link
  state: State
  clock: Clock
  log: Log
}

/** Resolves when the agent stopped (signal aborted, or retired on this instance). */
export async function runAgent(deps: AgentDeps, signal: AbortSignal): Promise<void> {
  const { config, imds, link, state, clock, log } = deps
  const self = await until(signal, clock, log, 'read identity from IMDS', () => imds.identity())
  if (!self) return
  if (config.configuredRegion && config.configuredRegion !== self.region) {
    log.warn('AWS_REGION disagrees with IMDS; using the region of the instance', {
      configured: config.configuredRegion,
      imds: self.region,
    })
  }
  const claim = state.claim(self.instanceId)
  if (claim.kind === 'cloned') {
    log.warn('state copied from another instance (through an image) was reset', {
      from: claim.from,
      dropped: claim.dropped,
    })
  }
  const retired = state.retiredReason(self.instanceId)
  if (retired) {
    log.warn('this instance no longer runs the workload; not registering', { reason: retired })
    // What it queued before the restart (a switch's or an emergency launch's report) still goes out,
    // on this instance's agent token when it has one (a verified agent's routes refuse the client token).
    link.useAgentToken(state.agentToken())
    link.kick()
    if (!(await link.drain(Infinity, signal)))
      log.warn('reports left undelivered', { count: link.pendingReports })
    return
  }
  const ec2 = deps.ec2(self.region)
  const pricing = deps.pricing(ec2)
  const { identity, tags } = await findIdentity(
    { imds, ec2, clock, signal },
    self.instanceId,
    state.logicalAgentId(),
    config.logicalAgentId,
  )
  if (signal.aborted) return
  if (tags.tags === null)
    log.warn('instance tags unreadable (no instance metadata tags, no EC2 answer)', { why: tags.why })
  const { logicalAgentId } = identity
  if (identity.source === 'tag' && config.logicalAgentId && config.logicalAgentId !== logicalAgentId) {
    log.warn('LOGICAL_AGENT_ID disagrees with the instance tag; the tag wins', {
      configured: config.logicalAgentId,
      tag: logicalAgentId,
    })
  }
  log.info('logical identity', {
    logical_agent_id: logicalAgentId,
    source: identity.source,
    replica_id: identity.replicaId,
    tags_via: 'via' in tags ? tags.via : null,
  })

  const stop = new AbortController()
  const stopped = AbortSignal.any([signal, stop.signal])
  let agentConfig: AgentConfig | null = null
  let isRetired = false
  let intake: Intake
  const ctx: ActionContext = {
    ec2,
    elbv2: deps.elbv2(self.region),
    host: deps.host,
    link,
    clock,
    log,
    state,
    config,
    self,
    logicalAgentId,
    agentConfig: () => agentConfig,
    replicasUnderway: new Set(),
    replacementTags: { of: null },
    retire(reason) {
      if (isRetired) return
      isRetired = true
      state.retire(self.instanceId, reason, clock.now())
      log.info('agent retires on this instance', { reason })
      // The loops stop once the running command (a switch waiting to terminate the old host) is done.
      void intake.idle().then(() => stop.abort())
    },
    signal,
  }

  // The signed document proves the instance; without one (IMDS serves none) the agent registers unverified.
  const proof = await imds.identityProof().catch((err: unknown) => {
    log.warn('signed instance identity unreadable; registering unverified', { error: String(err) })
    return null
  })
  const image = await readWorkloadImage(ec2, self.amiId, log)
  const registration = await register(
    { link, clock, log },
    registrationBody(self, logicalAgentId, identity.replicaId, proof, state.agentToken(), image),
    signal,
  )
  if (registration.kind === 'replica_ended') {
    log.warn('this replica ended; the agent stops for good', { replica_id: registration.replicaId })
    return
  }
  if (registration.kind === 'stopped') return
  if (registration.kind === 'deleted') {
    log.warn('this agent was deleted in the dashboard: it runs its uninstall, then stops for good', {
      agent_id: registration.agentId,
      command_id: registration.commandId,
    })
    // Its command routes serve it that command only; run like any other, it retires the agent.
    intake = createIntake(ctx)
    while (!stopped.aborted) {
      const reply = await link.pendingCommands(self.instanceId)
      const uninstall = reply.ok ? reply.body.find((c) => c.id === registration.commandId) : undefined
      if (uninstall) intake.offer(uninstall, 'poll')
      await clock.sleep(config.intervals.pendingCommands * 1000, stopped)
    }
    await intake.idle()
    if (!(await link.drain(isRetired && !signal.aborted ? Infinity : 10_000, signal)))
      log.warn('reports left undelivered', { count: link.pendingReports })
    return
  }
  const registered = registration.body
  state.rememberLogicalAgentId(logicalAgentId)
  if (registered.agent_token) state.rememberAgentToken(registered.agent_token)
  agentConfig = registered.config ?? null
  log.info('registered', {
    agent_id: registered.agent_id,
    logical_agent_id: logicalAgentId,
    instance_id: self.instanceId,
    version: AGENT_VERSION,
    identity: registered.identity ?? 'unverified',
  })

  // Stateful mode: the data volumes and the managed interface known and reported from the start.
  // An emergency replacement takes the interrupted workload's data back first (stateful/restore.ts);
  // a switch waits for both. Only past registration: a standby replica (passive in `register`) never
  // runs it, so it never claims its image's copies nor takes the workload's volumes or interface.
  // An interruption notice of this instance stops it (handleNotice).
  const stateful = statefulStart(ctx)
  if (agentConfig?.stateful === true) stateful.begin()
  // Declared before ctx.retire can run (only commands and notices call it, after registration).
  intake = createIntake(ctx, stateful)
  for (const entry of state.inflight()) intake.offer(entry.command, 'resume')
  link.kick()
  // The host that launched this instance in an emergency may have ended with its report queued.
  if (identity.replicaId?.startsWith(LOCAL_REPLICA_PREFIX)) void reportOwnEmergencyLaunch(ctx)

  const heartbeat = createHeartbeat({
    link,
    clock,
    facts: () => ({
      status: agentConfig?.enabled === false ? 'disabled' : 'online',
      instance_id: self.instanceId,
      instance_type: self.instanceType,
      mode: self.mode,
      az: self.az,
    }),
    isActive: () => !isRetired && !stopped.aborted,
  })
  const refreshConfig = async () => {
    const reply = await link.config()
    if (!reply.ok) return
    const wasReporter = agentConfig?.pricing_reporter !== false
    const wasStateful = agentConfig?.stateful === true
    agentConfig = reply.body
    if (!wasStateful && agentConfig.stateful === true) stateful.begin()
    heartbeat.onChange()
    // Handed the reporter's role: its first report (the last hour of change points) goes out now.
    if (!wasReporter && agentConfig.pricing_reporter !== false)
      void reportPrices().catch((err) => log.warn('pricing report failed', { error: err }))
  }
  const pollCommands = async () => {
    const reply = await link.pendingCommands(self.instanceId)
    if (reply.ok) for (const command of reply.body) intake.offer(command, 'poll')
  }
  link.openStream(
    self.instanceId,
    (message) => {
      switch (message.type) {
        case 'hello':
          return
        case 'command':
          return intake.offer(message.command, 'socket')
        case 'config_changed':
          return void refreshConfig()
        case 'heartbeat_ok':
          return heartbeat.onAnswer()
        case 'pong':
          return
        default: {
          const never: never = message
          return never
        }
      }
    },
    (open) => {
      // The heartbeat moves to the socket, or back to HTTP at once. Whatever was queued while the
      // socket was down arrives by one poll; reports flush too.
      heartbeat.onOpenChange()
      if (open) {
        void pollCommands()
        link.kick()
      }
    },
  )

  const beat = () => {
    const memory = process.memoryUsage()
    log.debug('heartbeat', {
      rss_mb: +(memory.rss / 2 ** 20).toFixed(1),
      heap_mb: +(memory.heapUsed / 2 ** 20).toFixed(1),
      heap_total_mb: +(memory.heapTotal / 2 ** 20).toFixed(1),
      external_mb: +(memory.external / 2 ** 20).toFixed(1),
      socket: link.isStreamOpen,
    })
    return heartbeat.beat()
  }
  // The types the pricing report covers: its own, then those the control plane wants priced.
  const pricedTypes = () => [
    self.instanceType,
    ...(agentConfig?.pricing_instance_types ?? []).filter((t) => t !== self.instanceType),
  ]
  // The change points at or after this time go in the next report; null: the last hour's (a new reporter).
  let historyFrom: number | null = null
  const reportPrices = async () => {
    // One agent per client, region and type reports (config `pricing_reporter`); absent: an older
    // control plane, which wants every agent's.
    if (agentConfig?.pricing_reporter === false) {
      historyFrom = null
      return
    }
    const now = clock.now()
    const [, ...others] = pricedTypes()
    const [spot, onDemand, otherOnDemand] = await Promise.all([
      pricing.spotPrices(pricedTypes(), historyFrom),
      pricing.onDemandPrice(self.instanceType, self.region),
      Promise.all(
        others.map(async (t) => ({ instance_type: t, price: await pricing.onDemandPrice(t, self.region) })),
      ),
    ])
    link.report('pricing', 'POST', '/pricing-report', {
      ...pricingReport(self, spot.pools, onDemand, now),
      spot_history: spot.history,
      ...(others.length > 0 && {
        on_demand_prices: otherOnDemand.flatMap((o) => (o.price === null ? [] : [{ ...o, price: o.price }])),
      }),
    })
    // An overlap: a point EC2 publishes a little after its own time is not missed (repeats are harmless).
    historyFrom = now - HISTORY_OVERLAP_MS
  }
  const placementScores = createPlacementScores({
    ec2,
    clock,
    log,
    region: self.region,
    intervalMs: config.intervals.placementScores * 1000,
    report: (body) => link.report('placement-scores', 'POST', '/placement-scores', body),
  })
  // Asked by the agent that prices (one per client, region and type): the same configuration once.
  const askPlacementScores = async () => {
    if (agentConfig?.pricing_reporter !== false) await placementScores.ask(pricedTypes())
  }
  const launchListedReplicas = async () => {
    const reply = await link.replicas('launching')
    if (!reply.ok) return
    for (const replica of reply.body) {
      if (
        replica.status !== 'launching' ||
        (replica.instance_id && /^i-[0-9a-f]{8,17}$/.test(replica.instance_id))
      )
        continue
      void launchReplica(ctx, {
        replicaId: replica.id,
        poolId: replica.pool_id ?? null,
        az: replica.az ?? null,
        replicaType: replica.type ?? 'manual',
        mode: replica.mode ?? 'spot',
      })
    }
  }

  const backups = backupImages(ctx)
  const snapshots = rollingSnapshots(ctx, stateful)

  const monitors: Monitor[] = [
    {
      name: 'scheduled-events',
      intervalMs: config.intervals.scheduledEvents * 1000,
      read: () => readScheduledEvents(imds),
    },
  ]
  if (self.mode === 'spot') {
    monitors.push(
      {
        name: 'interruption',
        intervalMs: config.intervals.termination * 1000,
        read: () => readInterruption(imds),
      },
      { name: 'rebalance', intervalMs: config.intervals.rebalance * 1000, read: () => readRebalance(imds) },
    )
  }
  // Notices being handled: a retiring agent waits for them (an interruption's drain reports last).
  const noticesHandled = new Set<Promise<void>>()
  const watcher = createWatcher(
    monitors,
    (notice) => {
      // A switch of this instance cannot finish before it ends: the failover moves the workload.
      if (notice.kind === 'interruption') intake.interrupt(`interruption notice, ends ${notice.time}`)
      const handled = handleNotice(ctx, notice, stateful).then((r) =>
        log[r.ok ? 'info' : 'error']('notice handled', { kind: notice.kind, ...r }),
      )
      noticesHandled.add(handled)
      void handled.finally(() => noticesHandled.delete(handled))
    },
    clock,
    log,
  )

  const every = (name: string, seconds: number, work: () => Promise<unknown>, firstAfterMs = 0) =>
    (async () => {
      if (firstAfterMs > 0) await clock.sleep(firstAfterMs, stopped)
      while (!stopped.aborted) {
        if (!isRetired) await work().catch((err) => log.warn(`${name} failed`, { error: err }))
        if (isRetired && !stopped.aborted) {
          await intake.idle()
          stop.abort()
          break
        }
        await clock.sleep(seconds * 1000, stopped)
      }
    })()

  // With the socket up, polling is only a safety net against a silently dead connection.
  const pollInterval = () =>
    link.isStreamOpen ? Math.max(config.intervals.pendingCommands * 8, 120) : config.intervals.pendingCommands
  const commandLoop = (async () => {
    while (!stopped.aborted) {
      if (!isRetired) await pollCommands().catch((err) => log.warn('pending-commands failed', { error: err }))
      await clock.sleep(pollInterval() * 1000, stopped)
    }
  })()

  await Promise.all([
    every('heartbeat', config.intervals.heartbeat, beat, config.intervals.heartbeat * 1000),
    every(
      'config refresh',
      config.intervals.configRefresh,
      refreshConfig,
      config.intervals.configRefresh * 1000,
    ),
    every('pricing report', config.intervals.pricingReport, reportPrices),
    every('placement scores', config.intervals.pricingReport, askPlacementScores),
    every('replica poll', config.intervals.replicas, launchListedReplicas),
    every('cleanup', config.intervals.cleanup, () => runCleanup(ctx), config.intervals.cleanup * 1000),
    every('backup image', BACKUP_CHECK_SECONDS, backups.runIfDue, BACKUP_CHECK_SECONDS * 1000),
    every('rolling snapshots', SNAPSHOT_CHECK_SECONDS, snapshots.runIfDue, SNAPSHOT_CHECK_SECONDS * 1000),
    watcher.run(stopped),
    commandLoop,
  ])

  if (signal.aborted) {
    log.info('stopping: waiting for the running command to finish or pause, then going offline')
    await intake.idle()
  }
  if (isRetired) await Promise.allSettled(noticesHandled)
  // Reports still queued go out now if they can. A retired agent (after a switch or an emergency
  // launch) has nothing else to do, so it waits for the control plane as long as it is not stopped;
  // stopping, what stays is persisted and sent after a restart.
  const delivered =
    isRetired && !signal.aborted ? await link.drain(Infinity, signal) : await link.drain(10_000)
  if (!delivered) log.warn('reports left undelivered', { count: link.pendingReports })
  if (!isRetired) {
    await link.heartbeat({
      status: 'offline',
      monitored_instances: [self.instanceId],
      instance_id: self.instanceId,
    })
  }
}

/** Retries `work` with backoff (1 s doubling to 60 s) until it succeeds; null when stopped first. */
async function until<T>(
  signal: AbortSignal,
  clock: Clock,
  log: Log,
  what: string,
  work: () => Promise<T>,
): Promise<T | null> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await work()
    } catch (err) {
      const wait = backoffMs(attempt, 1_000, 60_000)
      log.warn(`could not ${what}, retrying`, { error: err, attempt: attempt + 1, in_ms: wait })
      await clock.sleep(wait, signal)
    }
  }
  return null
}
