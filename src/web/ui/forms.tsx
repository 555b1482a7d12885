/**
 * The forms the client script sends to the API as JSON, and the box a form's answer fills in.
 * Each prop maps to the data- attribute client-script.ts reads.
 */
import type { Child } from 'hono/jsx'
import { Csrf } from './bits'

export interface ApiFormProps {
  /** The API path the form is sent to. */
  api: string
  csrf: string
  /** The submit button's text. */
  submit: Child
  /** HTTP method; POST when absent. */
  method?: 'PUT' | 'DELETE'
  /** A yes/no question asked before sending. */
  confirm?: string
  /** A name the person must type to confirm (deletions). */
  confirmName?: string
  /** Id of the hidden box whose data-field elements are filled from the answer. */
  show?: string
  /** Id of the box that follows the queued command's progress. */
  progress?: string
  /** Where to go after success (otherwise the page reloads). */
  redirect?: string
  class?: string
  style?: string
  /** The button's look: `switch` marks a force-switch button. */
  tone?: 'primary' | 'danger' | 'switch'
  buttonId?: string
  /** Fields, before the button. */
  children?: Child
  /** Markup after the status line. */
  after?: Child
}

export function ApiForm(props: ApiFormProps) {
  return (
    <form
      class={props.class}
      style={props.style}
      data-api={props.api}
      data-method={props.method}
      data-show={props.show}
      data-progress={props.progress}
      data-confirm={props.confirm}
      data-confirm-name={props.confirmName}
      data-redirect={props.redirect}
    >
      <Csrf token={props.csrf} />
      {props.children}
      <button class={props.tone} type="submit" id={props.buttonId}>
        {props.submit}
      </button>
      <span class="msg" />
      {props.after}
    </form>
  )
}

/** The hidden box an ApiForm's `show` opens: a label, then the answer's `field`, meant to be copied once. */
export function ShownOnce(props: { id: string; label: Child; field: string; style: string }) {
  return (
    <div id={props.id} hidden class="note" style={props.style}>
      {props.label} <div class="secret" data-field={props.field} />
    </div>
  )
}
