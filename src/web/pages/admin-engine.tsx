/** Admin engine page: parameter versions over the engine API (activate, roll back, shadow, create, backtest). */
import { desc } from 'drizzle-orm'
import { Hono } from 'hono'
import { database } from '../../db/client'
import { engineParams } from '../../db/schema'
import { latestRuns } from '../../db/queries/backtests'
import type { AppEnv } from '../../env'
import { Badge, Csrf, Empty, Panel, Time } from '../ui/bits'
import { Shell } from '../ui/layout'
import {
  authorsOf,
  BacktestLegend,
  knownMarkets,
  MarketLists,
  REPORTS_PER_VERSION,
  VersionBacktests,
} from './admin-backtests'
import { viewerOf } from './context'

export const adminEnginePage = new Hono<AppEnv>()

adminEnginePage.get('/engine', async (c) => {
  const viewer = viewerOf(c)
  const db = database(c.env.DB)
  const versions = await db.select().from(engineParams).orderBy(desc(engineParams.version)).limit(50)
  const [runs, markets] = await Promise.all([
    latestRuns(
      db,
      versions.map((v) => v.version),
      REPORTS_PER_VERSION,
    ),
    knownMarkets(db),
  ])
  const authors = await authorsOf(
    db,
    [...runs.values()].flatMap((r) => r.items),
  )
  return c.html(
    <Shell title="Engine parameters" viewer={viewer} active="/admin/engine">
      <div class="note">
        Parameters are versioned JSON data. Activate a version, roll back to the previous one, or run a
        candidate in shadow mode (decisions recorded, never applied).
      </div>
      <Panel title="Versions">
        {versions.length === 0 ? (
          <Empty>
            No version stored: the engine runs on its built-in defaults. Create a version through the engine
            API.
          </Empty>
        ) : (
          <div class="tablewrap">
            <table id="engine-versions">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Status</th>
                  <th>Note</th>
                  <th>Created</th>
                  <th>Activated</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {versions.map((v) => (
                  <tr>
                    <td>v{v.version}</td>
                    <td>
                      <Badge value={v.status === 'active' ? 'active' : v.status} />
                    </td>
                    <td>{v.note ?? ''}</td>
                    <td>
                      <Time ms={v.createdAt} />
                    </td>
                    <td>
                      <Time ms={v.activatedAt} />
                    </td>
                    <td style="display:flex;gap:6px;flex-wrap:wrap">
                      {v.status !== 'active' ? (
                        <form
                          data-api={`/api/admin/engine/versions/${v.version}/activate`}
                          data-confirm={`Activate v${v.version}?`}
                        >
                          <Csrf token={viewer.csrfToken} />
                          <button type="submit">Activate</button>
                          <span class="msg" />
                        </form>
                      ) : null}
                      {v.status === 'draft' || v.status === 'retired' ? (
                        <form data-api={`/api/admin/engine/versions/${v.version}/shadow`}>
                          <Csrf token={viewer.csrfToken} />
                          <button type="submit">Shadow</button>
                          <span class="msg" />
                        </form>
                      ) : null}
                      <details>
                        <summary>JSON</summary>
                        <pre style="font-size:11px;max-width:420px;overflow:auto">
                          {JSON.stringify(v.params, null, 2)}
                        </pre>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form
          class="inline"
          data-api="/api/admin/engine/rollback"
          data-confirm="Roll back to the previously active version?"
          style="margin-top:12px"
        >
          <Csrf token={viewer.csrfToken} />
          <button type="submit">Roll back</button>
          <span class="msg" />
        </form>
      </Panel>
      <Panel title="Backtests" id="backtests">
        <div class="note">
          Replay a version on the stored price history of one instance type and region and compare it with
          on-demand, the cheapest pool, the replaced system and the hindsight optimum. Reports are kept.
        </div>
        <BacktestLegend />
        {versions.length === 0 ? (
          <Empty>Create a parameter version below, then backtest it here.</Empty>
        ) : (
          versions.map((v, i) => {
            const mine = runs.get(v.version)
            return (
              <VersionBacktests
                version={v.version}
                status={v.status}
                open={i === 0 || v.status === 'active' || (mine?.total ?? 0) > 0}
                runs={mine?.items ?? []}
                total={mine?.total ?? 0}
                markets={markets}
                csrf={viewer.csrfToken}
                authors={authors}
              />
            )
          })
        )}
        <MarketLists markets={markets} />
      </Panel>
      <Panel title="New version">
        <form class="stack" data-api="/api/admin/engine/versions">
          <Csrf token={viewer.csrfToken} />
          <label for="params">Parameters (JSON; omitted keys keep the defaults)</label>
          <textarea
            id="params"
            name="params"
            data-json
            rows={8}
            style="width:100%;font-family:ui-monospace,monospace;font-size:12px"
          >
            {JSON.stringify({ min_savings_percent: 15, risk_threshold: 0.3 }, null, 2)}
          </textarea>
          <label for="note">Note</label>
          <input id="note" name="note" placeholder="Why this version" />
          <p>
            <button class="primary" type="submit">
              Create draft
            </button>
            <span class="msg" />
          </p>
        </form>
        <form data-api="/api/admin/engine/shadow" data-method="DELETE" data-confirm="Stop the shadow run?">
          <Csrf token={viewer.csrfToken} />
          <button type="submit">Stop shadow run</button>
          <span class="msg" />
        </form>
      </Panel>
    </Shell>,
  )
})
