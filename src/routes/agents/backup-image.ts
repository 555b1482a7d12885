/** POST /api/agents/:agentId/backup-image: the agent made its periodic backup AMI (5.x agents). */
import { createRoute } from '@hono/zod-openapi'
import * as z from 'zod'
import { clock } from '../../clock'
import { database } from '../../db/client'
import { recordBackupImage } from '../../flows/agents'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { parseIsoTime } from './wire'

export const BackupImageBody = z.object({
  image_id: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'expected an AMI id'),
  /** When EC2 made the image (its CreationDate), ISO-8601. */
  created_at: z
    .string()
    .max(64)
    .transform((v, ctx) => {
      const t = parseIsoTime(v)
      if (t === null) ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time' })
      return t ?? 0
    }),
})

export const backupImage = routeGroup<AgentRouteEnv>(AGENT_API)

backupImage.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/backup-image',
    summary: 'The periodic backup AMI the agent made of its instance',
    request: { body: jsonBody(BackupImageBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    await recordBackupImage(
      database(c.env.DB),
      { clientId: agent.clientId, agentId: agent.id },
      { imageId: body.image_id, at: body.created_at },
      clock.now(),
    )
    return c.json({ success: true })
  },
)
