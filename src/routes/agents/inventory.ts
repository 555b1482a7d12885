/**
 * A stateful agent's workload inventory (5.x agents): POST volumes (its data volumes and managed
 * interface) and POST snapshots (the rolling snapshots it holds). Each report replaces the last.
 */
import { createRoute } from '@hono/zod-openapi'
import * as z from 'zod'
import { clock } from '../../clock'
import { database } from '../../db/client'
import { replaceSnapshots, replaceVolumes } from '../../flows/workload-inventory'
import { SNAPSHOT_STATES } from '../../protocol'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { parseIsoTime } from './wire'

const volumeId = z.string().regex(/^vol-[0-9a-f]{8,17}$/, 'expected an EBS volume id')
const device = z.string().min(1).max(64)
const az = z.string().min(1).max(64)

/** An ISO-8601 time as epoch ms; anything else is a 400. */
const isoTime = z
  .string()
  .max(64)
  .transform((v, ctx) => {
    const t = parseIsoTime(v)
    if (t === null) ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time' })
    return t ?? 0
  })

/** No two items of a list with the same key (each is one row: a repeat would be a conflict). */
function distinct<T>(key: (item: T) => string, what: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>()
    for (const [i, item] of items.entries()) {
      if (seen.has(key(item))) ctx.addIssue({ code: 'custom', path: [i], message: `${what} listed twice` })
      seen.add(key(item))
    }
  }
}

const Volume = z.object({
  volume_id: volumeId,
  device,
  size_gib: z.number().int().min(1).max(65_536),
  az,
  delete_on_termination: z.boolean(),
})

export const VolumesBody = z.object({
  volumes: z
    .array(Volume)
    .max(32)
    .superRefine(distinct((v) => v.volume_id, 'volume')),
  /** The SpotGuard-managed interface that holds the workload's private address; null: none. */
  interface: z
    .object({
      eni_id: z.string().regex(/^eni-[0-9a-f]{8,17}$/, 'expected a network interface id'),
      private_ip: z.union([z.ipv4(), z.ipv6()]),
      subnet_id: z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'expected a subnet id'),
    })
    .nullable(),
})

const Snapshot = z.object({
  snapshot_id: z.string().regex(/^snap-[0-9a-f]{8,17}$/, 'expected an EBS snapshot id'),
  volume_id: volumeId,
  device,
  started_at: isoTime,
  state: z.enum(SNAPSHOT_STATES),
  completed_at: isoTime.nullish(),
})

export const SnapshotsBody = z.object({
  snapshots: z
    .array(Snapshot)
    .max(500)
    .superRefine(distinct((s) => s.snapshot_id, 'snapshot')),
})

export const inventory = routeGroup<AgentRouteEnv>(AGENT_API)

inventory.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/volumes',
    summary: "The stateful workload's data volumes and managed interface (replaces the last report)",
    request: { body: jsonBody(VolumesBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const iface = body.interface
    await replaceVolumes(
      database(c.env.DB),
      { clientId: agent.clientId, agentId: agent.id },
      body.volumes.map((v) => ({
        volumeId: v.volume_id,
        device: v.device,
        sizeGib: v.size_gib,
        az: v.az,
        deleteOnTermination: v.delete_on_termination,
      })),
      iface && { eniId: iface.eni_id, privateIp: iface.private_ip, subnetId: iface.subnet_id },
      clock.now(),
    )
    return c.json({ success: true, volumes: body.volumes.length })
  },
)

inventory.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/snapshots',
    summary: 'The rolling snapshots the stateful agent holds (replaces the last report)',
    request: { body: jsonBody(SnapshotsBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    await replaceSnapshots(
      database(c.env.DB),
      { clientId: agent.clientId, agentId: agent.id },
      body.snapshots.map((s) => ({
        snapshotId: s.snapshot_id,
        volumeId: s.volume_id,
        device: s.device,
        startedAt: s.started_at,
        state: s.state,
        completedAt: s.completed_at ?? null,
      })),
      clock.now(),
    )
    return c.json({ success: true, snapshots: body.snapshots.length })
  },
)
