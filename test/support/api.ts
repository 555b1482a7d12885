/**
 * The people-facing API as a test drives it, with the operator's bearer (ADMIN_TOKEN). Answers are
 * typed only as far as the tests read them.
 */

export interface AgentRow {
  id: string
  logicalAgentId: string
  instanceId: string | null
  currentMode: string
  currentPoolId: string | null
  status: string
  version: string | null
}

export interface CommandRow {
  id: string
  status: string
  message: string | null
  commandType: string
}

export interface SwitchRow {
  id: string
  agentId: string
  commandId: string | null
  oldInstanceId: string | null
  newInstanceId: string | null
  toMode: string | null
  toPool: string | null
  trigger: string
  /** Server time it was recorded, epoch ms. */
  timestamp: number
  fromPool: string | null
  /** The instance types before and after the switch. */
  fromType: string | null
  toType: string | null
  price: number | null
  onDemandPrice: number | null
  savingsImpact: number | null
  downtimeMs: number | null
  durationMs: number | null
  errorMessage: string | null
}

export interface ReplicaRow {
  agentId: string
  replica: {
    id: string
    instanceId: string | null
    type: string
    mode: string
    status: string
    errorMessage: string | null
    pool: string
  }
}

export interface InstanceRow {
  instanceId: string
  logicalAgentId: string
  currentMode: string
  currentPoolId: string | null
  isActive: boolean
  /** As true now: `terminating` until an interrupted instance's notice time. */
  status: 'active' | 'terminating' | 'terminated'
}

export interface NotificationRow {
  kind: string
  agentId: string | null
  severity: string
  message: string
}

export class OperatorApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T }
  }

  private async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.call<T>(method, path, body)
    if (answer.status >= 300)
      throw new Error(`${method} ${path}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`)
    return answer.body
  }

  async agents(clientId: string): Promise<AgentRow[]> {
    return this.ok<AgentRow[]>('GET', `/api/client/${clientId}/agents?limit=100`)
  }

  async agent(clientId: string, logicalAgentId: string): Promise<AgentRow | undefined> {
    return (await this.agents(clientId)).find((a) => a.logicalAgentId === logicalAgentId)
  }

  configure(agentId: string, settings: Record<string, unknown>): Promise<unknown> {
    return this.ok('POST', `/api/client/agents/${agentId}/config`, settings)
  }

  forceSwitch(instanceId: string, target: { target: 'ondemand' | 'spot' | 'pool'; pool_id?: string }) {
    return this.ok<{ success: boolean; command_id?: string; message?: string }>(
      'POST',
      `/api/client/instances/${instanceId}/force-switch`,
      target,
    )
  }

  command(commandId: string): Promise<CommandRow> {
    return this.ok('GET', `/api/client/commands/${commandId}`)
  }

  switchHistory(clientId: string): Promise<SwitchRow[]> {
    return this.ok('GET', `/api/client/${clientId}/switch-history?limit=100`)
  }

  instances(clientId: string): Promise<InstanceRow[]> {
    return this.ok('GET', `/api/client/${clientId}/instances?limit=100`)
  }

  notifications(clientId: string): Promise<NotificationRow[]> {
    return this.ok('GET', `/api/notifications?client_id=${clientId}&limit=200`)
  }

  replicas(clientId: string, includeEnded = false): Promise<ReplicaRow[]> {
    return this.ok('GET', `/api/client/${clientId}/replicas${includeEnded ? '?include_terminated=true' : ''}`)
  }
}
