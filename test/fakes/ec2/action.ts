/** What every action handler receives and returns: the world, the request's parameters, the XML body. */
import type { Ec2State } from './model'
import type { Params } from './query'

export interface ActionContext {
  state: Ec2State
  params: Params
}

/** Returns the XML inside `<ActionResponse>` after `requestId`; throws `Ec2Error` for API errors. */
export type ActionHandler = (ctx: ActionContext) => string
