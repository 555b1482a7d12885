/**
 * POST /api/client/instances/:instanceId/force-switch: a person moves an instance now (priority 75,
 * the agent's own terminate wait). `:instanceId` is the EC2 id; an admin's lookup spans clients.
 */
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { scopeClientWrite } from '../../auth/middleware'
import type { Principal } from '../../auth/principal'
import { chooseTarget, queueSwitch } from '../../flows/switch/command'
import { database, type Database } from '../../db/client'
import { activeInstancesByEc2Id } from '../../db/queries/instance-by-ec2-id'
import type { AppEnv } from '../../env'
import { ApiError, orThrow } from '../../errors'
import { PRIORITY } from '../../protocol'
import { auditEntry } from '../../db/audit'
import { clock } from '../../clock'

export const ForceSwitchBody = z.object({
  target: z.enum(['ondemand', 'pool', 'spot']),
  pool_id: z.string().trim().min(1).max(128).nullish(),
})

export const forceSwitch = routeGroup<AppEnv>(CLIENT_API)

forceSwitch.openapi(
  createRoute({
    method: 'post',
    path: '/instances/{instanceId}/force-switch',
    summary: 'Switch now (priority 75, owner)',
    request: { body: jsonBody(ForceSwitchBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const now = clock.now()
    const { instance, agent } = await activeInstance(db, c.get('principal'), c.req.param('instanceId'))
    // Viewers see the instance but may not move it.
    scopeClientWrite(c, agent.clientId)
    const body = c.req.valid('json')
    const choice = orThrow(
      await chooseTarget(db, agent, instance, { target: body.target, poolId: body.pool_id ?? null }, now),
    )
    if (choice.kind === 'already') return c.json({ success: false, message: choice.message })
    const result = await queueSwitch(c.env, agent, instance, choice.target, {
      priority: PRIORITY.manual,
      source: 'manual',
    })
    if (!result.ok) {
      if (result.reason === 'duplicate') {
        throw new ApiError('CONFLICT', 'a switch of this instance is already pending', {
          success: false,
          command_id: result.commandId,
        })
      }
      throw new ApiError('CONFLICT', result.message, { success: false })
    }
    const target = choice.target.mode === 'ondemand' ? 'on-demand' : choice.target.poolId
    await auditEntry(
      c,
      db,
      {
        action: 'instance.force_switch',
        clientId: agent.clientId,
        targetType: 'instance',
        targetId: instance.instanceId,
        after: {
          command_id: result.commandId,
          target_mode: choice.target.mode,
          target_pool_id: choice.target.poolId,
        },
      },
      now,
    )
    return c.json({
      success: true,
      command_id: result.commandId,
      message: `switch of ${instance.instanceId} to ${target} queued${choice.note ? `; ${choice.note}` : ''}`,
    })
  },
)

/** The active instance with this EC2 id that the principal may act on, and its agent (404 otherwise). */
async function activeInstance(db: Database, principal: Principal, instanceId: string) {
  const scope = principal.kind === 'user' ? principal.clientId : null
  const rows = await activeInstancesByEc2Id(db, instanceId, scope)
  const live = rows.filter((r) => r.agent.status !== 'deleted' && r.agent.deletedAt === null)
  if (live.length === 0) throw new ApiError('NOT_FOUND', 'instance not found')
  if (live.length > 1) throw new ApiError('CONFLICT', 'instance id is ambiguous across clients')
  return live[0]!
}
