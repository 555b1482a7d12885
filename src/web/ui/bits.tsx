/** Small display pieces shared by the pages: times, money, badges, stat cards, pager, empty states. */
import type { Child } from 'hono/jsx'

/** A time shown in the viewer's zone by the client script (UTC ISO until then). */
export function Time(props: { ms: number | null | undefined; date?: boolean }) {
  if (!props.ms) return <span class="muted">—</span>
  const iso = new Date(props.ms).toISOString()
  return props.date ? (
    <time data-ts={String(props.ms)} data-date datetime={iso}>
      {iso.slice(0, 10)}
    </time>
  ) : (
    <time data-ts={String(props.ms)} datetime={iso}>
      {iso.replace('T', ' ').slice(0, 16)} UTC
    </time>
  )
}

/** Decimals beyond which an amount is shown as "less than" (a millionth of a dollar). */
const MAX_DECIMALS = 6

/**
 * Every amount of money on the pages: at least `minDigits` decimals, and below $1 as many as its
 * first three significant digits need ($0.0123, never $0.00 for a non-zero amount). Unknown: a dash.
 */
export function usd(value: number | null | undefined, minDigits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  const sign = value < 0 ? '−' : ''
  const abs = Math.abs(value)
  if (abs > 0 && abs < 10 ** -MAX_DECIMALS) return `${sign}<$${(10 ** -MAX_DECIMALS).toFixed(MAX_DECIMALS)}`
  const significant = abs >= 1 || abs === 0 ? 0 : 2 - Math.floor(Math.log10(abs))
  const digits = Math.min(MAX_DECIMALS, Math.max(minDigits, significant))
  const text = abs.toLocaleString('en-US', {
    minimumFractionDigits: minDigits,
    maximumFractionDigits: digits,
  })
  return `${sign}$${text}`
}

/** An hourly price, USD/h: AWS publishes prices to 4 decimals. */
export function perHour(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${usd(value, 4)}/h`
}

export function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${value.toFixed(1)} %`
}

const TONES: Record<string, string> = {
  online: 'ok',
  active: 'ok',
  completed: 'ok',
  ready: 'ok',
  promoted: 'ok',
  success: 'ok',
  healthy: 'ok',
  offline: 'bad',
  failed: 'bad',
  error: 'bad',
  deleted: 'bad',
  expired: 'warn',
  suspended: 'warn',
  disabled: 'warn',
  warning: 'warn',
  launching: 'warn',
  terminating: 'warn',
  syncing: 'warn',
  degraded: 'warn',
  spot: 'spot',
  ondemand: 'od',
}

export function Badge(props: { value: string | null | undefined }) {
  const v = props.value ?? 'unknown'
  return <span class={`badge ${TONES[v] ?? ''}`}>{v === 'ondemand' ? 'on-demand' : v}</span>
}

export function Stat(props: { label: string; value: Child; sub?: Child }) {
  return (
    <div class="card">
      <div class="k">{props.label}</div>
      <div class="v">{props.value}</div>
      {props.sub ? <div class="s">{props.sub}</div> : null}
    </div>
  )
}

export function Empty(props: { children: Child }) {
  return <div class="empty">{props.children}</div>
}

export function Panel(props: { title?: Child; children: Child; id?: string }) {
  return (
    <section class="panel" id={props.id}>
      {props.title ? <h2>{props.title}</h2> : null}
      {props.children}
    </section>
  )
}

/** Previous/next links that keep the other query parameters. */
export function Pager(props: { url: string; page: number; limit: number; total: number }) {
  const pages = Math.max(1, Math.ceil(props.total / props.limit))
  const link = (p: number) => {
    const u = new URL(props.url)
    u.searchParams.set('page', String(p))
    return `${u.pathname}${u.search}`
  }
  return (
    <div class="pager">
      <span>
        {props.total} total · page {props.page} of {pages}
      </span>
      {props.page > 1 ? <a href={link(props.page - 1)}>← Previous</a> : null}
      {props.page < pages ? <a href={link(props.page + 1)}>Next →</a> : null}
    </div>
  )
}

/** A search box and optional selects that submit as GET query parameters. */
export function Filters(props: { search?: string; placeholder: string; children?: Child }) {
  return (
    <form class="filters" method="get">
      <input type="search" name="search" value={props.search ?? ''} placeholder={props.placeholder} />
      {props.children}
      <button type="submit">Filter</button>
    </form>
  )
}

export function Select(props: { name: string; value?: string; options: [string, string][] }) {
  return (
    <select name={props.name}>
      {props.options.map(([v, label]) => (
        <option value={v} selected={v === (props.value ?? '')}>
          {label}
        </option>
      ))}
    </select>
  )
}

/** The hidden CSRF field every form carries (the script sends it as a header). */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />
}
