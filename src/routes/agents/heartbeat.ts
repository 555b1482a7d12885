/**
 * POST /api/agents/:agentId/heartbeat: what every installed agent sends every 30 s (a 5.x agent while
 * its socket is down), authenticated and absorbed by the agent's Durable Object in one call: the object
 * checks the token's hash against the tokens it trusts (session/credentials.ts), so the hot path reads
 * no D1. A token it does not trust is proven here in D1 as every per-agent route does (ownAgent: 401
 * unknown, 403 suspended client or a client token for a verified agent, 404 another agent's or a deleted
 * one) and the call repeated with the proof.
 */
import { createRoute } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import * as z from 'zod'
import { authenticateForAgent } from '../../auth/agent-request'
import { bearerToken } from '../../auth/middleware'
import { clock } from '../../clock'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { ApiError, validationError } from '../../errors'
import { sha256Hex } from '../../ids'
import type { ProvenToken } from '../../session/credentials'
import { sessionOf } from '../../session/stub'
import type { HeartbeatFacts } from '../../session/types'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import { actingInstance, ownAgentOf } from './context'
import { fact, instanceIdField, toMode } from './wire'

export const HeartbeatBody = z.object({
  /** `offline` is sent once, at shutdown. */
  status: z.enum(['online', 'disabled', 'offline']),
  monitored_instances: z.array(z.string().max(64)).max(1000).nullish(),
  /** Null or missing facts keep the old value. */
  instance_id: instanceIdField.nullish(),
  instance_type: fact,
  mode: z
    .string()
    .max(64)
    .nullish()
    .transform((v) => (v == null ? null : toMode(v))),
  az: fact,
})

export const heartbeat = routeGroup<AppEnv>(AGENT_API)

heartbeat.openapi(
  createRoute({
    method: 'post',
    path: '/{agentId}/heartbeat',
    summary: 'Heartbeat; 120 s of silence is offline',
    middleware: [bearerRequired()],
    request: { body: jsonBody(HeartbeatBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const agentId = c.req.param('agentId') ?? ''
    const token = bearerOf(c)
    const body = c.req.valid('json')
    const facts: HeartbeatFacts = {
      status: body.status,
      instanceId: body.instance_id ?? null,
      instanceType: body.instance_type,
      mode: body.mode === 'unknown' ? null : body.mode,
      az: body.az,
    }
    const beat = { ...facts, agentId, tokenHash: await sha256Hex(token) }
    const session = sessionOf(c.env, agentId)
    let result = await session.heartbeat(beat)
    if (!result.ok && result.reason === 'unknown_token') {
      const proven = await proveToken(c, token, agentId, facts.instanceId)
      result = await session.heartbeat({ ...beat, proof: { token: proven, epoch: result.epoch } })
    }
    if (result.ok) return c.json({ success: true })
    switch (result.reason) {
      case 'not_found':
      case 'unknown_token':
        throw new ApiError('NOT_FOUND', 'agent not found')
      case 'wrong_instance':
        throw new ApiError('FORBIDDEN', 'an agent token acts for its own instance only')
      default:
        return result satisfies never
    }
  },
  (result, c) => (result.success ? undefined : refuseBody(c, result.error.issues)),
)

/** No bearer is 401 before the body is read (the object checks the bearer itself). */
function bearerRequired() {
  return createMiddleware<AppEnv>(async (c, next) => {
    bearerOf(c)
    await next()
  })
}

function bearerOf(c: Context<AppEnv>): string {
  const token = bearerToken(c.req.header('Authorization'))
  if (!token) throw new ApiError('UNAUTHORIZED', 'missing bearer token')
  return token
}

/** A bad body is 400 only to a caller whose token D1 knows (401 / 403 first, as on every agent route). */
async function refuseBody(c: Context<AppEnv>, issues: z.core.$ZodIssue[]): Promise<never> {
  const agentId = c.req.param('agentId') ?? ''
  await authenticateForAgent(database(c.env.DB), bearerOf(c), agentId, clock.now())
  throw validationError(issues, 'body')
}

/** The D1 proof of a token the object does not trust: whose it is, for which instance, until when. */
async function proveToken(
  c: Context<AppEnv>,
  token: string,
  agentId: string,
  sentInstanceId: string | null,
): Promise<ProvenToken> {
  const request = await authenticateForAgent(database(c.env.DB), token, agentId, clock.now())
  const { principal } = request
  ownAgentOf(request, agentId, { includeDeleted: false })
  actingInstance(principal, sentInstanceId)
  return {
    clientId: principal.clientId,
    instanceId: principal.verified?.instanceId ?? null,
    expiresAt: request.tokenExpiresAt,
  }
}
