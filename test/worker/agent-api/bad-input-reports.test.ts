/** Bad input to the report and signal routes; see bad-input.ts. */
import { describeBadBodies } from './bad-input'
import { AGENT_ROUTES } from './routes'

const REPORTS = [
  '/pricing-report',
  '/placement-scores',
  '/switch-report',
  '/termination-imminent',
  '/rebalance-recommendation',
  '/create-emergency-replica',
  '/cleanup-report',
  '/backup-image',
  '/volumes',
  '/snapshots',
  '/termination',
]

describeBadBodies(
  'bad input to the report and signal routes',
  AGENT_ROUTES.filter((r) => REPORTS.includes(r.path)),
)
