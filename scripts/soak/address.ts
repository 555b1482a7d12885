/**
 * The Elastic IP half of invariant (a): EC2 holds a workload's address where D1 says it is. D1 says it
 * through `instances.public_ip`: the instance whose row names the address and has not ended holds it
 * (the primary when its row names it: a kept old instance may still name it after a switch moved it),
 * and nobody does when no such row is left. So the primary must hold it, unless D1 says the address did
 * not follow (an installed 4.0.0 agent cannot move it: EC2 keeps it on the interrupted instance until
 * that ends, then on no instance) — never what neither EC2 nor the agent can do, and never a D1 that
 * claims the primary holds an address EC2 has elsewhere.
 */
import { statusAt } from './statuses'
import type { Facts } from './facts'
import type { D1Agent, Ec2Instance } from './snapshot'

/**
 * Where D1 says the workload's address is at `f.at`: an instance id, null for no instance (several
 * non-primary rows naming it are listed, `i-a or i-b`: D1 does not know, which no holder matches).
 */
export function addressHolderInD1(f: Facts, agent: D1Agent, address: string): string | null {
  const naming = f.d1.instances
    .filter((r) => r.agentId === agent.id && r.publicIp === address && statusAt(r, f.at) !== 'terminated')
    .map((r) => r.instanceId)
    .sort()
  if (agent.instanceId && naming.includes(agent.instanceId)) return agent.instanceId
  return naming.length === 0 ? null : naming.join(' or ')
}

/** (a), once D1 names the workload's one running primary: EC2's association is D1's record of it. */
export function checkAddress(
  f: Facts,
  workload: string,
  agent: D1Agent,
  primary: Ec2Instance,
  d1Says: string,
): void {
  const address = f.ec2.addressIps[workload]
  const holder = f.ec2.instances.find((i) => i.workload === workload && i.holdsAddress)?.instanceId ?? null
  // A workload without an Elastic IP in the snapshot: the primary is still expected to hold one.
  const want = address === undefined ? primary.instanceId : addressHolderInD1(f, agent, address)
  if (holder === want) return
  f.diverge(
    'a',
    workload,
    `address:${primary.instanceId}`,
    `the Elastic IP${address ? ` ${address}` : ''} is ${holder ? `on ${holder}` : 'associated with no instance'}`,
    `${d1Says}; the Elastic IP on ${want ?? 'no instance (it did not follow, and the instance that held it ended)'}`,
  )
}
