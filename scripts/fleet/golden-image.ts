/**
 * What a customer's golden image carries once the agent is installed on it, as install.sh lays it out:
 * the env file (control plane URL and token, the settings the customer chose, NO logical id: each
 * instance is told its workload by its `LogicalAgentId` tag), the unit, enabled (the link
 * `systemctl enable` makes), and the program (a link to the built bundle, so the simulator always runs
 * the current build).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DiskFiles } from '../../test/fakes'
import { ROOT } from './control-plane'
import { WANTS_DIR } from './launcher'

export const AGENT_UNIT = 'spotguard-agent.service'

export interface AgentInstall {
  /** Path of agent/dist/spotguard-agent.js. */
  bundle: string
  serverUrl: string
  token: string
  /** More settings of the env file (intervals of agent-api.md, in seconds). */
  env?: Record<string, string>
}

export function agentInstallFiles(install: AgentInstall): DiskFiles {
  const env = {
    SPOT_OPTIMIZER_SERVER_URL: install.serverUrl,
    SPOT_OPTIMIZER_CLIENT_TOKEN: install.token,
    ...install.env,
  }
  return {
    '/etc/spot-optimizer/agent.env': {
      content: Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      mode: 0o600,
    },
    [`/etc/systemd/system/${AGENT_UNIT}`]: readFileSync(join(ROOT, 'agent', AGENT_UNIT)),
    [`/${WANTS_DIR}/${AGENT_UNIT}`]: { symlink: `/etc/systemd/system/${AGENT_UNIT}` },
    '/opt/spotguard/spotguard-agent.js': { symlink: install.bundle },
  }
}
