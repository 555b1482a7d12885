/** Inline SVG charts: price history as step lines (every pool and on-demand) and two-line savings. */
import type { PriceHistory, Point } from '../../db/queries/price-history'
import { usd } from './bits'

const PALETTE = ['#0f766e', '#2563eb', '#d97706', '#db2777', '#65a30d', '#0891b2', '#9333ea', '#dc2626']
const W = 900
const H = 280
const PAD = { l: 56, r: 12, t: 12, b: 28 }

export interface Marker {
  at: number
  kind: 'switch' | 'interruption' | 'decision'
  label: string
}

const MARK: Record<Marker['kind'], { color: string; glyph: string }> = {
  switch: { color: '#2563eb', glyph: '⇄' },
  interruption: { color: '#b91c1c', glyph: '⚠' },
  decision: { color: '#d97706', glyph: '◆' },
}

function scale(from: number, to: number, max: number) {
  const x = (t: number) => PAD.l + ((t - from) / Math.max(1, to - from)) * (W - PAD.l - PAD.r)
  const y = (p: number) => H - PAD.b - (p / Math.max(max, 1e-9)) * (H - PAD.t - PAD.b)
  return { x, y }
}

/** A step path: the price holds until the next change point. */
function stepPath(points: Point[], x: (t: number) => number, y: (p: number) => number): string {
  return points
    .map((p, i) => {
      const px = x(p.t).toFixed(1)
      const py = y(p.price).toFixed(1)
      return i === 0 ? `M${px},${py}` : `H${px}V${py}`
    })
    .join('')
}

function timeTicks(from: number, to: number): number[] {
  return Array.from({ length: 5 }, (_, i) => from + ((to - from) * i) / 4)
}

export function PriceChart(props: { history: PriceHistory; markers: Marker[]; currentPool: string | null }) {
  const { history } = props
  const all = [...history.onDemand, ...history.pools.flatMap((p) => p.points)].map((p) => p.price)
  const max = Math.max(0.0001, ...all) * 1.1
  const { x, y } = scale(history.from, history.to, max)
  const yTicks = [0, max / 4, max / 2, (3 * max) / 4]
  const dayRange = history.to - history.from > 36 * 3600_000
  return (
    <div class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Price history" id="price-chart">
        {yTicks.map((v) => (
          <g>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="#e3e8ef" />
            <text x={PAD.l - 6} y={y(v) + 4} text-anchor="end" font-size="11" fill="#677489">
              {usd(v, 3)}
            </text>
          </g>
        ))}
        {timeTicks(history.from, history.to).map((t, i) => (
          <text
            x={x(t)}
            y={H - 8}
            text-anchor={i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}
            data-fmt={dayRange ? 'day' : 'time'}
            font-size="11"
            fill="#677489"
            data-ts={String(Math.round(t))}
            class="tick"
          >
            {new Date(t).toISOString().slice(dayRange ? 5 : 11, dayRange ? 10 : 16)}
          </text>
        ))}
        {props.markers
          .filter((m) => m.at >= history.from && m.at <= history.to)
          .map((m) => (
            <g class={`marker ${m.kind}`}>
              <line
                x1={x(m.at)}
                x2={x(m.at)}
                y1={PAD.t}
                y2={H - PAD.b}
                stroke={MARK[m.kind].color}
                stroke-dasharray="4 3"
              />
              <title>{m.label}</title>
              <text x={x(m.at) + 3} y={PAD.t + 10} font-size="10" fill={MARK[m.kind].color}>
                {MARK[m.kind].glyph}
              </text>
            </g>
          ))}
        {history.onDemand.length > 0 ? (
          <path
            d={stepPath(history.onDemand, x, y)}
            fill="none"
            stroke="#7c3aed"
            stroke-width="2"
            stroke-dasharray="6 4"
            class="series"
            data-series="on-demand"
            data-points={String(history.onDemand.length)}
          />
        ) : null}
        {history.pools.map((p, i) => (
          <path
            d={stepPath(p.points, x, y)}
            fill="none"
            stroke={PALETTE[i % PALETTE.length]}
            stroke-width={p.id === props.currentPool ? 3 : 1.6}
            class="series"
            data-series={p.id}
            data-points={String(p.points.length)}
          />
        ))}
        {[
          { points: history.onDemand, color: '#7c3aed' },
          ...history.pools.map((p, i) => ({ points: p.points, color: PALETTE[i % PALETTE.length]! })),
        ].map((s) => {
          // The latest price as a dot, so a price first reported a moment ago is still visible.
          const last = s.points.at(-1)
          return last ? <circle cx={x(last.t)} cy={y(last.price)} r="3" fill={s.color} /> : null
        })}
      </svg>
      <div class="legend">
        <span>
          <i style="background:#7c3aed" />
          On-demand
        </span>
        {history.pools.map((p, i) => (
          <span>
            <i style={`background:${PALETTE[i % PALETTE.length]}`} />
            {p.az}
            {p.id === props.currentPool ? ' (current)' : ''}
          </span>
        ))}
        <span>
          <i style="background:#2563eb" />
          switch
        </span>
        <span>
          <i style="background:#b91c1c" />
          interruption / rebalance
        </span>
        <span>
          <i style="background:#d97706" />
          engine decision
        </span>
      </div>
    </div>
  )
}

/** Baseline (on-demand) vs actual cost per month: two lines, not stacked. */
export function SavingsChart(props: { months: { name: string; onDemandCost: number; modelCost: number }[] }) {
  const rows = props.months
  const max = Math.max(0.01, ...rows.flatMap((r) => [r.onDemandCost, r.modelCost])) * 1.1
  const n = Math.max(1, rows.length - 1)
  const x = (i: number) => PAD.l + (i / n) * (W - PAD.l - PAD.r)
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b)
  const line = (pick: (r: (typeof rows)[number]) => number) =>
    rows.map((r, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(pick(r)).toFixed(1)}`).join('')
  return (
    <div class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label="Baseline and actual cost per month"
        id="savings-chart"
      >
        {[0, max / 2].map((v) => (
          <g>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} stroke="#e3e8ef" />
            <text x={PAD.l - 6} y={y(v) + 4} text-anchor="end" font-size="11" fill="#677489">
              {usd(v)}
            </text>
          </g>
        ))}
        {rows.map((r, i) => (
          <text x={x(i)} y={H - 8} text-anchor="middle" font-size="11" fill="#677489">
            {r.name}
          </text>
        ))}
        <path d={line((r) => r.onDemandCost)} fill="none" stroke="#7c3aed" stroke-width="2.5" />
        <path d={line((r) => r.modelCost)} fill="none" stroke="#0f766e" stroke-width="2.5" />
        {rows.map((r, i) => (
          <>
            <circle cx={x(i)} cy={y(r.onDemandCost)} r="3.5" fill="#7c3aed" />
            <circle cx={x(i)} cy={y(r.modelCost)} r="3.5" fill="#0f766e" />
          </>
        ))}
      </svg>
      <div class="legend">
        <span>
          <i style="background:#7c3aed" />
          Baseline (all on-demand)
        </span>
        <span>
          <i style="background:#0f766e" />
          Actual (primary + replicas + overlap)
        </span>
      </div>
    </div>
  )
}
