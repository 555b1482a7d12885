/**
 * The agent's command routes, all answered by its Durable Object (the live queue):
 * GET pending-commands (answered without it when D1's copy of the queue has nothing open), POST
 * commands/:commandId/executed (and 3.2.0's mark-command-executed), and for the new agent POST
 * commands/:commandId/ack (the claim that makes a command run at most once) and POST
 * commands/:commandId/running.
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import type { Context } from 'hono'
import * as z from 'zod'
import { instanceIdField } from './wire'
import { ApiError } from '../../errors'
import { sessionOf } from '../../session/stub'
import type { MoveResult } from '../../session/types'
import { actingInstance, OWN_AGENT_OR_DELETED, type AgentRouteEnv } from './context'

const PendingQuery = z.object({
  /** The new agent's instance: it gets every claimable command for it; without it, one leased command. */
  instance_id: instanceIdField.optional(),
})

export const ExecutedBody = z.object({
  success: z.union([z.boolean(), z.literal(0), z.literal(1)]).transform(Boolean),
  message: z.string().max(4096).nullish(),
})

/** 3.2.0 sends only the id: it means success. */
export const MarkExecutedBody = z.object({
  command_id: z.string().min(1).max(128),
  success: z
    .union([z.boolean(), z.literal(0), z.literal(1)])
    .transform(Boolean)
    .optional(),
  message: z.string().max(4096).nullish(),
})

export const ClaimBody = z.object({ instance_id: instanceIdField })

/** Started, or a step done: `step` says which (each renews the command's lease). */
export const RunningBody = ClaimBody.extend({ step: z.string().trim().max(200).nullish() })

export const commands = routeGroup<AgentRouteEnv>(AGENT_API)

commands.openapi(
  createRoute({
    method: 'get',
    middleware: OWN_AGENT_OR_DELETED,
    path: '/{agentId}/pending-commands',
    summary:
      'Queued commands, highest priority first (bare array); legacy agents get only the types they know',
    request: { query: PendingQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const { instance_id } = c.req.valid('query')
    const agent = c.get('agent')
    const instanceId = actingInstance(c.get('principal'), instance_id ?? null)
    // Nothing open in D1's copy of the queue: nothing to hand out, and the object is not called.
    if (!c.get('hasOpenCommand')) return c.json([])
    const pending = await sessionOf(c.env, agent.id).pendingCommands({
      clientId: agent.clientId,
      agentId: agent.id,
      agentVersion: agent.agentVersion,
      instanceId,
    })
    if (pending === null) throw new ApiError('NOT_FOUND', 'agent not found')
    return c.json(pending)
  },
)

commands.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT_OR_DELETED,
    path: '/{agentId}/commands/{commandId}/executed',
    summary: 'Result: completed or failed (idempotent)',
    request: { body: jsonBody(ExecutedBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    return executed(c, c.req.param('commandId'), body.success, body.message ?? null)
  },
)

commands.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT_OR_DELETED,
    path: '/{agentId}/mark-command-executed',
    summary: 'Alias of executed for the 3.2.0 agent',
    request: { body: jsonBody(MarkExecutedBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    return executed(c, body.command_id, body.success ?? true, body.message ?? null)
  },
)

commands.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT_OR_DELETED,
    path: '/{agentId}/commands/{commandId}/ack',
    summary: 'Claim a command for one instance (it runs at most once)',
    request: { body: jsonBody(ClaimBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const ref = claimOf(c, c.req.param('commandId'), c.req.valid('json'))
    return answer(c, await sessionOf(c.env, ref.agentId).ack(ref))
  },
)

commands.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT_OR_DELETED,
    path: '/{agentId}/commands/{commandId}/running',
    summary: 'The claimed command started',
    request: { body: jsonBody(RunningBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const ref = { clientId: agent.clientId, agentId: agent.id, commandId: c.req.param('commandId') }
    return answer(
      c,
      await sessionOf(c.env, agent.id).running({
        ...ref,
        instanceId: actingInstance(c.get('principal'), body.instance_id),
        step: body.step ?? null,
      }),
    )
  },
)

/** Both dialects of "the command ran" (the path's id, or 3.2.0's body id), answered alike. */
async function executed(
  c: Context<AgentRouteEnv>,
  commandId: string,
  success: boolean,
  message: string | null,
): Promise<Response> {
  const agent = c.get('agent')
  const result = await sessionOf(c.env, agent.id).executed({
    clientId: agent.clientId,
    agentId: agent.id,
    commandId,
    success,
    message,
    instanceId: actingInstance(c.get('principal'), null),
  })
  return answer(c, result)
}

/** The claim a new agent makes on a command (ack): its instance comes in the body. */
function claimOf(c: Context<AgentRouteEnv>, commandId: string, body: z.output<typeof ClaimBody>) {
  const agent = c.get('agent')
  const instanceId = actingInstance(c.get('principal'), body.instance_id)
  return { clientId: agent.clientId, agentId: agent.id, commandId, instanceId }
}

/** 200 with the command's state (a repeat too), 404 for a command this agent doesn't have, 409 when refused. */
function answer(c: Context<AgentRouteEnv>, result: MoveResult): Response {
  if (result.ok) return c.json({ success: true, status: result.status, changed: result.changed })
  if (result.reason === 'not_found') throw new ApiError('NOT_FOUND', 'command not found')
  throw new ApiError('CONFLICT', result.message, { status: result.status })
}
