/** The form that asks for a force switch of one instance, with the box that follows the queued command. */
import { ApiForm } from '../ui/forms'

export function ForceSwitchForm(props: {
  instanceId: string
  target: 'ondemand' | 'pool'
  /** The target pool (target `pool`). */
  poolId?: string | null
  /** Id of the progress box, unique on the page. */
  progressId: string
  csrf: string
  submit: string
  confirm?: string
}) {
  return (
    <ApiForm
      api={`/api/client/instances/${props.instanceId}/force-switch`}
      progress={props.progressId}
      confirm={props.confirm}
      csrf={props.csrf}
      tone="switch"
      submit={props.submit}
      after={<div id={props.progressId} class="progress" hidden />}
    >
      <input type="hidden" name="target" value={props.target} />
      {props.poolId ? <input type="hidden" name="pool_id" value={props.poolId} /> : null}
    </ApiForm>
  )
}
