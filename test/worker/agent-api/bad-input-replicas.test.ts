/** Bad input to the replica routes; see bad-input.ts. */
import { describeBadBodies } from './bad-input'
import { AGENT_ROUTES } from './routes'

describeBadBodies(
  'bad input to the replica routes',
  AGENT_ROUTES.filter((r) => r.path.startsWith('/replicas')),
)
