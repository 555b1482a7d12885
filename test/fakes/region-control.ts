/** The simulated region's JSON control API: inject notices, move prices, inject failures, list instances. */
import * as z from 'zod'
import type { FakeEc2 } from './ec2/server'
import { publicIpOf } from './ec2/model'
import type { FakeRequest, FakeResponse } from './http'
import type { FakeImds } from './imds/server'
import type { FakePricing } from './pricing'

export interface ControlDeps {
  ec2: FakeEc2
  pricing: FakePricing
  region: string
  imdsOf(instanceId: string): Promise<FakeImds>
  starting: Map<string, Promise<FakeImds>>
}

const Interrupt = z.object({
  action: z.enum(['terminate', 'stop', 'hibernate']).default('terminate'),
  inSeconds: z.number().min(0).default(120),
})
const Scheduled = z.object({
  code: z.string().default('system-reboot'),
  description: z.string().optional(),
  inSeconds: z.number().min(0).default(86_400),
})
const SpotPrice = z.object({ instanceType: z.string(), az: z.string(), price: z.number().positive() })
const OnDemandPrice = z.object({ instanceType: z.string(), price: z.number().positive() })
const Failure = z.object({
  action: z.string(),
  code: z.string(),
  message: z.string().optional(),
  times: z.number().int().positive().default(1),
})
const Advance = z.object({ id: z.string().optional() })

const json = (status: number, body: unknown): FakeResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

function parse<T>(schema: z.ZodType<T>, body: string): T {
  return schema.parse(body.trim() === '' ? {} : JSON.parse(body))
}

async function describeInstance(deps: ControlDeps, instanceId: string) {
  const i = deps.ec2.instance(instanceId)!
  const imds = await deps.imdsOf(instanceId)
  return {
    instanceId,
    state: i.state,
    status: i.status,
    az: i.az,
    instanceType: i.instanceType,
    lifecycle: i.lifecycle,
    privateIp: i.privateIp,
    publicIp: publicIpOf(deps.ec2.state, i) ?? null,
    tags: i.tags,
    imds: imds.url,
    imdsCounts: imds.counts,
  }
}

export async function handleControl(req: FakeRequest, deps: ControlDeps): Promise<FakeResponse> {
  const { ec2 } = deps
  ec2.tick()
  try {
    if (req.method === 'GET' && req.path === '/instances') {
      return json(200, await Promise.all([...deps.starting.keys()].map((id) => describeInstance(deps, id))))
    }
    if (req.method === 'GET' && req.path === '/requests') {
      return json(200, { ec2: ec2.counts(), pricing: deps.pricing.count() })
    }
    if (req.method === 'POST' && req.path === '/prices/spot') {
      const p = parse(SpotPrice, req.body)
      ec2.setSpotPrice(p.instanceType, p.az, p.price)
      return json(200, { ok: true })
    }
    if (req.method === 'POST' && req.path === '/prices/on-demand') {
      const p = parse(OnDemandPrice, req.body)
      deps.pricing.setOnDemandPrice(deps.region, p.instanceType, p.price)
      return json(200, { ok: true })
    }
    if (req.method === 'POST' && req.path === '/fail') {
      const f = parse(Failure, req.body)
      ec2.failNext(f.action, f.code, { message: f.message, times: f.times })
      return json(200, { ok: true })
    }
    if (req.method === 'POST' && req.path === '/advance') {
      return json(200, { moved: ec2.advance(parse(Advance, req.body).id) })
    }
    if (req.method === 'POST' && req.path === '/settle') {
      ec2.settle()
      return json(200, { ok: true })
    }
    const m = /^\/instances\/(i-[0-9a-f]+)(?:\/([a-z-]+))?$/.exec(req.path)
    if (!m || !deps.starting.has(m[1]!)) return json(404, { error: 'not found' })
    const instanceId = m[1]!
    if (req.method === 'GET' && !m[2]) return json(200, await describeInstance(deps, instanceId))
    if (req.method !== 'POST') return json(405, { error: 'method not allowed' })
    const imds = await deps.imdsOf(instanceId)
    const now = ec2.state.clock.now()
    switch (m[2]) {
      case 'interrupt': {
        const body = parse(Interrupt, req.body)
        const time = now + body.inSeconds * 1000
        imds.interrupt({ action: body.action, time })
        if (body.action === 'terminate') ec2.scheduleTermination(instanceId, time)
        return json(200, { instanceId, action: body.action, time: new Date(time).toISOString() })
      }
      case 'rebalance':
        imds.rebalance(now)
        return json(200, { instanceId, noticeTime: new Date(now).toISOString() })
      case 'scheduled-event': {
        const body = parse(Scheduled, req.body)
        imds.scheduledEvent({
          Code: body.code,
          Description: body.description,
          NotBefore: now + body.inSeconds * 1000,
        })
        return json(200, { ok: true })
      }
      case 'clear':
        imds.clear()
        return json(200, { ok: true })
      case 'terminate':
        ec2.terminate(instanceId)
        return json(200, { ok: true })
      default:
        return json(404, { error: 'not found' })
    }
  } catch (err) {
    if (err instanceof z.ZodError || err instanceof SyntaxError)
      return json(400, { error: 'invalid body', detail: String(err) })
    throw err
  }
}
