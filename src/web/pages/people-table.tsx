/** The accounts table of the admin console (all accounts) and of a client's team page. */
import type { Child } from 'hono/jsx'
import type { publicUser } from '../../auth/accounts'
import { Badge, Time } from '../ui/bits'
import { Table } from '../ui/table'

type Person = ReturnType<typeof publicUser>

/**
 * One row per account: e-mail, role, (client), creation date, active or disabled, and the page's
 * action on that account (disable, remove) in the last column.
 */
export function PeopleTable(props: {
  people: Person[]
  id?: string
  showClient?: boolean
  /** The creation date column's name. */
  sinceLabel: string
  action: (person: Person) => Child
}) {
  return (
    <Table
      id={props.id}
      columns={['E-mail', 'Role', ...(props.showClient ? ['Client'] : []), props.sinceLabel, 'Status', '']}
    >
      {props.people.map((u) => (
        <tr>
          <td>{u.email}</td>
          <td>{u.role}</td>
          {props.showClient ? (
            <td>{u.clientId ? <a href={`/c/${u.clientId}`}>{u.clientId}</a> : '—'}</td>
          ) : null}
          <td>
            <Time ms={u.createdAt} date />
          </td>
          <td>
            <Badge value={u.disabledAt ? 'disabled' : 'active'} />
          </td>
          <td>{props.action(u)}</td>
        </tr>
      ))}
    </Table>
  )
}
