/**
 * The agent's command routes, all answered by its Durable Object (the live queue):
 * GET pending-commands, POST commands/:commandId/executed (and 3.2.0's mark-command-executed), and for
 * the new agent POST commands/:commandId/ack (the claim that makes a command run at most once) and
 * POST commands/:commandId/running.
 */
import { Hono, type Context } from 'hono'
import * as z from 'zod'
import { instanceIdField } from './wire'
import { ApiError } from '../../errors'
import { sessionOf } from '../../session/stub'
import type { MoveResult } from '../../session/types'
import { readJson, readQuery } from '../../validate'
import type { AgentRouteEnv } from './context'

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

export const commands = new Hono<AgentRouteEnv>()

commands.get('/pending-commands', async (c) => {
  const { instance_id } = readQuery(c, PendingQuery)
  const agent = c.get('agent')
  const pending = await sessionOf(c.env, agent.id).pendingCommands({
    clientId: agent.clientId,
    agentId: agent.id,
    agentVersion: agent.agentVersion,
    instanceId: instance_id ?? null,
  })
  if (pending === null) throw new ApiError('NOT_FOUND', 'agent not found')
  return c.json(pending)
})

commands.post('/commands/:commandId/executed', async (c) => {
  const body = await readJson(c, ExecutedBody)
  return executed(c, c.req.param('commandId'), body.success, body.message ?? null)
})

commands.post('/mark-command-executed', async (c) => {
  const body = await readJson(c, MarkExecutedBody)
  return executed(c, body.command_id, body.success ?? true, body.message ?? null)
})

commands.post('/commands/:commandId/ack', async (c) => {
  const ref = await claimOf(c, c.req.param('commandId'))
  return answer(c, await sessionOf(c.env, ref.agentId).ack(ref))
})

commands.post('/commands/:commandId/running', async (c) => {
  const body = await readJson(c, RunningBody)
  const agent = c.get('agent')
  const ref = { clientId: agent.clientId, agentId: agent.id, commandId: c.req.param('commandId') }
  return answer(
    c,
    await sessionOf(c.env, agent.id).running({
      ...ref,
      instanceId: body.instance_id,
      step: body.step ?? null,
    }),
  )
})

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
    instanceId: null,
  })
  return answer(c, result)
}

/** The claim a new agent makes on a command (ack): its instance comes in the body. */
async function claimOf(c: Context<AgentRouteEnv>, commandId: string) {
  const body = await readJson(c, ClaimBody)
  const agent = c.get('agent')
  return { clientId: agent.clientId, agentId: agent.id, commandId, instanceId: body.instance_id }
}

/** 200 with the command's state (a repeat too), 404 for a command this agent doesn't have, 409 when refused. */
function answer(c: Context<AgentRouteEnv>, result: MoveResult): Response {
  if (result.ok) return c.json({ success: true, status: result.status, changed: result.changed })
  if (result.reason === 'not_found') throw new ApiError('NOT_FOUND', 'command not found')
  throw new ApiError('CONFLICT', result.message, { status: result.status })
}
