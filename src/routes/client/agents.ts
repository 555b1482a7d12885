/** People-facing agent routes: list, history, enable/disable, settings, delete (with an uninstall command). */
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { clientScopeOf, requirePerson, scopeClient, scopeClientWrite } from '../../auth/middleware'
import { maintainStandby } from '../../flows/failover/standby'
import { tellConfigChanged } from '../../flows/tell'
import { markAgentDeleted, setAgentEnabled, updateAgentSettings } from '../../flows/agents'
import type { Context } from 'hono'
import { database, type Database } from '../../db/client'
import type { Agent } from '../../db/schema'
import type { AppEnv } from '../../env'
import { PRIORITY } from '../../protocol'
import { sessionOf } from '../../session/stub'
import { auditEntry } from '../../db/audit'
import { agentDetail, agentInScope, AgentListQuery, listAgents } from '../../db/queries/agents'
import { clock } from '../../clock'
import { livenessFrom } from '../../db/queries/liveness'
import { ApiError, found, validationError } from '../../errors'
import { AllowedInstanceTypes, unbootableTypes } from '../../engine/allow-list'
import { imageFromFacts } from '../../engine/compatibility'
import { findInstanceOfAgent } from '../../db/queries/instances'

export const ToggleEnabledBody = z.object({ enabled: z.boolean() })

/** The agent of the URL in the person's scope (404 across tenants; a deleted one only when asked). */
async function agentOfUrl(c: Context<AppEnv>, db: Database, options: { includeDeleted?: boolean } = {}) {
  const scope = clientScopeOf(requirePerson(c))
  return found(await agentInScope(db, scope, c.req.param('agentId') ?? '', options), 'agent not found')
}

/**
 * Settings; camelCase as the replaced console sent them. Thresholds: null inherits the engine's; the
 * allow-list of instance types: null returns to the default rule.
 */
export const AgentConfigBody = z
  .object({
    autoSwitchEnabled: z.boolean(),
    manualReplicaEnabled: z.boolean(),
    autoTerminateEnabled: z.boolean(),
    terminateWaitMinutes: z.number().int().min(0).max(1440),
    terminateWaitSeconds: z.number().int().min(0).max(86_400),
    legacyAutoSwitchOptIn: z.boolean(),
    minSavingsPercent: z.number().min(0).max(100).nullable(),
    riskThreshold: z.number().min(0).max(1).nullable(),
    maxSwitchesPerDay: z.number().int().min(0).max(24).nullable(),
    maxSwitchesPerWeek: z.number().int().min(0).max(168).nullable(),
    minPoolDurationHours: z.number().min(0).max(720).nullable(),
    allowedInstanceTypes: AllowedInstanceTypes.nullable().describe(
      'Instance types the workload may run on (shipped table, types its image boots); null: the default ' +
        "rule (same architecture, at least the base type's vCPUs and memory, same or newer generation)",
    ),
    /** Hours between the agent's backup AMIs; 0 turns them off. At most 30 days, cleanup's AMI age. */
    backupImageHours: z.number().int().min(0).max(720),
    /** Stateful mode (5.x agents): data volumes, the private address and rolling snapshots follow the workload. */
    stateful: z.boolean(),
    /** The rolling snapshots' period: at most this many minutes of writes lost to an interruption. */
    rpoMinutes: z.number().int().min(5).max(1440),
    /** The systemd unit stopped cleanly before a switch or on a notice; null: none. */
    drainUnit: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9:_.@-]{0,255}$/, 'expected a systemd unit name')
      .nullable(),
    /** The limit of the pre-switch and post-switch hooks, seconds (the notice's 2 minutes bound it). */
    hookTimeoutSeconds: z.number().int().min(1).max(90),
    /** Deregister from the ELBv2 target groups before a switch or on a notice. */
    drainTargetGroups: z.boolean(),
  })
  .partial()
  .refine((b) => !(b.autoSwitchEnabled && b.manualReplicaEnabled), {
    message: 'auto-switch and manual replica exclude each other',
    path: ['manualReplicaEnabled'],
  })

export const clientAgents = routeGroup<AppEnv>(CLIENT_API)

clientAgents.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/agents',
    summary: 'Agents (bare array, X-Total-Count)',
    request: { query: AgentListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const page = await listAgents(database(c.env.DB), livenessFrom(c.env), clientId, c.req.valid('query'))
    c.header('X-Total-Count', String(page.total))
    return c.json(page.items)
  },
)

clientAgents.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/agents/history',
    summary: 'Agents including deleted ones',
    request: { query: AgentListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const q = c.req.valid('query')
    const page = await listAgents(database(c.env.DB), livenessFrom(c.env), clientId, {
      ...q,
      includeDeleted: true,
    })
    c.header('X-Total-Count', String(page.total))
    return c.json(page.items.map((a) => ({ ...a, terminatedAt: a.deletedAt })))
  },
)

clientAgents.openapi(
  createRoute({ method: 'get', path: '/agents/{agentId}', summary: 'One agent', responses: answers('OK') }),
  async (c) => {
    const person = requirePerson(c)
    return c.json(
      found(
        await agentDetail(
          database(c.env.DB),
          livenessFrom(c.env),
          clientScopeOf(person),
          c.req.param('agentId'),
        ),
        'agent not found',
      ),
    )
  },
)

clientAgents.openapi(
  createRoute({
    method: 'post',
    path: '/agents/{agentId}/toggle-enabled',
    summary: 'Enable or disable (owner)',
    request: { body: jsonBody(ToggleEnabledBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const agent = await agentOfUrl(c, db, { includeDeleted: true })
    scopeClientWrite(c, agent.clientId)
    const { enabled } = c.req.valid('json')
    const now = clock.now()
    // Re-enabling a deleted agent is how it comes back (its registration is refused until then).
    const revives = enabled && agent.status === 'deleted'
    await db.batch([
      setAgentEnabled(db, agent, enabled, now),
      auditEntry(
        c,
        db,
        {
          action: 'agent.toggle_enabled',
          clientId: agent.clientId,
          targetType: 'agent',
          targetId: agent.id,
          before: { enabled: agent.enabled },
          after: { enabled },
        },
        now,
      ),
    ])
    if (revives) {
      await sessionOf(c.env, agent.id).reinstate({ clientId: agent.clientId, agentId: agent.id })
    }
    return c.json({ success: true, enabled })
  },
)

clientAgents.openapi(
  createRoute({
    method: 'post',
    path: '/agents/{agentId}/config',
    summary: 'Settings and thresholds; auto-switch excludes manual replica (owner)',
    request: { body: jsonBody(AgentConfigBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const agent = await agentOfUrl(c, db)
    scopeClientWrite(c, agent.clientId)
    const body = c.req.valid('json')
    if (body.allowedInstanceTypes) await checkAllowList(db, agent, body.allowedInstanceTypes)
    const change = settingsChange(agent, body)
    const now = clock.now()
    const before = Object.fromEntries(Object.keys(change).map((k) => [k, agent[k as keyof Agent]]))
    await db.batch([
      updateAgentSettings(db, agent.id, change, now),
      auditEntry(
        c,
        db,
        {
          action: 'agent.config',
          clientId: agent.clientId,
          targetType: 'agent',
          targetId: agent.id,
          before,
          after: change,
        },
        now,
      ),
    ])
    const stored = { ...agent, ...change }
    // Manual replica mode on: a standby is created; off: its replicas are ended through commands.
    if ('manualReplicaEnabled' in change)
      c.executionCtx.waitUntil(maintainStandby(c.env, db, stored, now).then(() => undefined))
    // A connected agent fetches its config again at once (the stateful mode's fields reach it so).
    if (Object.keys(change).length > 0) c.executionCtx.waitUntil(tellConfigChanged(c.env, agent.id))
    return c.json({
      success: true,
      auto_switch_enabled: stored.autoSwitchEnabled,
      manual_replica_enabled: stored.manualReplicaEnabled,
      auto_terminate_enabled: stored.autoTerminateEnabled,
      terminate_wait_seconds: stored.terminateWaitSeconds,
      settings: pickSettings(stored),
    })
  },
)

clientAgents.openapi(
  createRoute({
    method: 'delete',
    path: '/agents/{agentId}',
    summary: 'Delete and send an uninstall command (owner)',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const agent = await agentOfUrl(c, db)
    scopeClientWrite(c, agent.clientId)
    const queued = await sessionOf(c.env, agent.id).enqueue({
      clientId: agent.clientId,
      agentId: agent.id,
      agentVersion: agent.agentVersion,
      instanceId: agent.instanceId,
      commandType: 'uninstall',
      priority: PRIORITY.manual,
      source: 'manual',
      dedupeKey: 'uninstall',
    })
    const now = clock.now()
    await db.batch([
      markAgentDeleted(db, agent.id, now),
      auditEntry(
        c,
        db,
        {
          action: 'agent.delete',
          clientId: agent.clientId,
          targetType: 'agent',
          targetId: agent.id,
          before: { status: agent.status },
          after: { status: 'deleted', uninstall: queued },
        },
        now,
      ),
    ])
    // Its object stops serving it (heartbeats, offline alarms) except for the uninstall command.
    await sessionOf(c.env, agent.id).retire({ clientId: agent.clientId, agentId: agent.id })
    return c.json({
      success: true,
      uninstallCommandId: queued.ok || queued.reason === 'duplicate' ? queued.commandId : null,
      // Legacy agents know no uninstall command: the dashboard says to remove them by hand.
      message:
        queued.ok || queued.reason === 'duplicate'
          ? 'agent deleted; uninstall command queued'
          : `agent deleted; ${queued.message}`,
    })
  },
)

/**
 * Refuses (400, nothing written) an allow-list naming a type the agent's image cannot boot: what its
 * agent read of the image, else what its base type (else its current one) proves.
 */
async function checkAllowList(db: Database, agent: Agent, types: readonly string[]) {
  const instance = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  const baseType = agent.baseInstanceType ?? instance?.instanceType
  if (!baseType) {
    const message = "the agent's instance type is not known yet: what its image boots can't be checked"
    throw new ApiError('VALIDATION', message, { fields: [{ field: 'allowedInstanceTypes', message }] })
  }
  const image = imageFromFacts(agent.imageArchitecture, agent.imageEnaSupport)
  const problems = unbootableTypes(types, { baseType, ...(image ? { image } : {}) })
  if (problems.length > 0)
    throw validationError(
      problems.map((p) => ({ path: ['allowedInstanceTypes', p.index], message: p.message })),
      'body',
    )
}

/** The columns a settings body changes, keeping auto-switch ⟂ manual replica against the stored row. */
export function settingsChange(agent: Agent, body: z.output<typeof AgentConfigBody>) {
  const { terminateWaitMinutes, terminateWaitSeconds, ...rest } = body
  const change: Partial<Agent> = { ...rest }
  const wait =
    terminateWaitSeconds ?? (terminateWaitMinutes === undefined ? undefined : terminateWaitMinutes * 60)
  if (wait !== undefined) change.terminateWaitSeconds = wait
  if (body.autoSwitchEnabled === true && body.manualReplicaEnabled === undefined)
    change.manualReplicaEnabled = false
  if (body.manualReplicaEnabled === true && body.autoSwitchEnabled === undefined)
    change.autoSwitchEnabled = false
  return change
}

/** The settings of an agent as the API shows them. */
export function pickSettings(a: Agent) {
  return {
    enabled: a.enabled,
    autoSwitchEnabled: a.autoSwitchEnabled,
    manualReplicaEnabled: a.manualReplicaEnabled,
    autoTerminateEnabled: a.autoTerminateEnabled,
    terminateWaitSeconds: a.terminateWaitSeconds,
    terminateWaitMinutes: Math.round(a.terminateWaitSeconds / 60),
    legacyAutoSwitchOptIn: a.legacyAutoSwitchOptIn,
    minSavingsPercent: a.minSavingsPercent,
    riskThreshold: a.riskThreshold,
    maxSwitchesPerDay: a.maxSwitchesPerDay,
    maxSwitchesPerWeek: a.maxSwitchesPerWeek,
    minPoolDurationHours: a.minPoolDurationHours,
    allowedInstanceTypes: a.allowedInstanceTypes,
    backupImageHours: a.backupImageHours,
    stateful: a.stateful,
    rpoMinutes: a.rpoMinutes,
    drainUnit: a.drainUnit,
    hookTimeoutSeconds: a.hookTimeoutSeconds,
    drainTargetGroups: a.drainTargetGroups,
  }
}
