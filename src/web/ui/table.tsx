/** The dashboard's data table: one header row of column names, then the page's rows. */
import type { Child } from 'hono/jsx'

/** A column's header: its name, or `[name, 'num']` for a right-aligned number column ('' for none). */
export type Column = string | readonly [string, 'num']

/**
 * Rows under their column names, in a horizontally scrolling wrapper; `bare` leaves the wrapper out
 * (narrow tables that never overflow).
 */
export function Table(props: { id?: string; columns: Column[]; bare?: boolean; children: Child }) {
  const table = (
    <table id={props.id}>
      <thead>
        <tr>
          {props.columns.map((col) =>
            typeof col === 'string' ? <th>{col}</th> : <th class="num">{col[0]}</th>,
          )}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  )
  return props.bare ? table : <div class="tablewrap">{table}</div>
}
