/**
 * Registration with the control plane, retried until it succeeds. A standby replica's registration is
 * answered 409 `standby` while the primary runs: the agent stays passive (nothing else is sent: no
 * heartbeat, no command poll, no monitor) and asks again after `retry_after_seconds`, until the
 * control plane promotes the replica (200: it registers as the workload's agent) or says the replica
 * ended (410 `replica_ended`: the agent stops for good). A switch's new instance, booting before the
 * switch is reported, is answered the same way (without a replica id) until the report moves the workload. A deleted agent is answered 410 `uninstall`
 * with the command it still has to run (and nothing else).
 */
import * as z from 'zod'
import { backoffMs, type Clock } from './clock'
import type { Identity, IdentityProof } from './imds'
import type { Link } from './link'
import type { Registered } from './link/http'
import type { Log } from './log'
import { AGENT_VERSION } from './version'
import type { WorkloadImage } from './workload-image'

/** How the control plane answers a replica that is not promoted (409) or has ended (410), or a deleted agent (410). */
const RefusalAnswer = z.object({
  action: z.enum(['standby', 'replica_ended', 'uninstall']),
  replica_id: z.string().nullish(),
  retry_after_seconds: z.number().positive().max(3600).optional(),
  agent_id: z.string().min(1).max(100).optional(),
  command_id: z.string().min(1).max(100).nullish(),
})

/** A standby replica asks again this often when the answer names no interval. */
const STANDBY_RETRY_SECONDS = 5

export type Registration =
  | { kind: 'registered'; body: Registered }
  /** The replica ended (terminated, failed...): this agent has nothing to do, ever. */
  | { kind: 'replica_ended'; replicaId: string | null }
  /** The agent was deleted in the dashboard: its `uninstall` is the one thing it still runs. */
  | { kind: 'deleted'; agentId: string; commandId: string }
  | { kind: 'stopped' }

/**
 * What `POST /api/agents/register` carries. `proof`: the signed identity document (a verified agent);
 * `agentToken`: the token this instance got before (its restarts re-register with it); `image`: what
 * the AMI it runs boots (workload-image.ts).
 */
export function registrationBody(
  self: Identity,
  logicalAgentId: string,
  replicaId: string | null,
  proof: IdentityProof | null = null,
  agentToken: string | null = null,
  image: WorkloadImage | null = null,
) {
  return {
    logical_agent_id: logicalAgentId,
    instance_id: self.instanceId,
    instance_type: self.instanceType,
    region: self.region,
    az: self.az,
    hostname: self.hostname,
    ami_id: self.amiId,
    image_architecture: image?.architecture,
    image_ena_support: image?.enaSupport,
    mode: self.mode,
    agent_version: AGENT_VERSION,
    private_ip: self.privateIp,
    public_ip: self.publicIp,
    // Only a replica sends it (undefined is left out of the JSON).
    replica_id: replicaId ?? undefined,
    identity_document: proof?.document,
    identity_signature: proof?.signature,
    agent_token: agentToken ?? undefined,
  }
}

/** Registers (retrying failures with backoff, 1 s doubling to 60 s), waiting passively while a standby. */
export async function register(
  deps: { link: Link; clock: Clock; log: Log },
  body: ReturnType<typeof registrationBody>,
  signal: AbortSignal,
): Promise<Registration> {
  const { link, clock, log } = deps
  let failures = 0
  let standby = false
  while (!signal.aborted) {
    const reply = await link.register(body, body.agent_token ?? null)
    if (reply.ok) return { kind: 'registered', body: reply.body }
    const refusal = RefusalAnswer.safeParse(reply.body)
    if (reply.status === 409 && refusal.success && refusal.data.action === 'standby') {
      const retryInS = refusal.data.retry_after_seconds ?? STANDBY_RETRY_SECONDS
      const fields = { replica_id: refusal.data.replica_id ?? body.replica_id ?? null, retry_in_s: retryInS }
      const replica = fields.replica_id !== null
      if (standby)
        log.debug(
          replica ? 'standby replica: not promoted yet' : 'standby: the workload still runs elsewhere',
          fields,
        )
      else
        log.info(
          replica
            ? 'standby replica: passive until the control plane promotes it'
            : 'standby: another instance runs the workload; passive until a switch moves it here',
          fields,
        )
      standby = true
      failures = 0
      await clock.sleep(retryInS * 1000, signal)
      continue
    }
    if (reply.status === 410 && refusal.success && refusal.data.action === 'replica_ended') {
      return { kind: 'replica_ended', replicaId: refusal.data.replica_id ?? body.replica_id ?? null }
    }
    const uninstall = refusal.success && refusal.data.action === 'uninstall' ? refusal.data : null
    if (reply.status === 410 && uninstall?.agent_id && uninstall.command_id) {
      link.agentId = uninstall.agent_id
      return { kind: 'deleted', agentId: uninstall.agent_id, commandId: uninstall.command_id }
    }
    if (reply.status === 410) log.error('this agent was deleted in the dashboard; re-enable it there')
    const wait = backoffMs(failures++, 1_000, 60_000)
    log.warn('could not register, retrying', {
      error: `register answered ${reply.status || 'no answer'}: ${reply.error}`,
      attempt: failures,
      in_ms: wait,
    })
    await clock.sleep(wait, signal)
  }
  return { kind: 'stopped' }
}
