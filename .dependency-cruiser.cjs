// The Worker's one-way layers (docs/control-plane.md): routes and web call flows; flows call engine,
// ledger, db and session/stub; engine and ledger stay pure; no import cycle, type-only imports
// included. The agent bundle shares nothing with the Worker but the wire contract (src/protocol.ts).
// Run: npm run lint:deps (npm test runs it first).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'An import cycle (type imports count) means two modules cannot be read or changed apart.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'pure-engine-ledger',
      comment:
        'engine/, ledger/ (and prices/ helpers) work on values passed in; their I/O lives in flows/ or db/.',
      severity: 'error',
      from: { path: '^src/(engine|ledger|prices)/' },
      to: { path: '^src/(db|flows|session|routes|web)/' },
    },
    {
      name: 'flows-below-adapters',
      comment: 'flows/ are the use cases; HTTP (routes/) and pages (web/) call them, never the reverse.',
      severity: 'error',
      from: { path: '^src/flows/' },
      to: { path: '^src/(routes|web)/' },
    },
    {
      name: 'flows-reach-session-by-stub',
      comment:
        "flows/ reach an agent's Durable Object through session/stub and its RPC types (session/types).",
      severity: 'error',
      from: { path: '^src/flows/' },
      to: { path: '^src/session/', pathNot: '^src/session/(stub|types)\\.ts$' },
    },
    {
      name: 'db-at-the-bottom',
      comment: 'db/ (schema, client, batch, queries) serves every layer above and imports none of them.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/(routes|web|flows)/' },
    },
    {
      name: 'session-below-adapters',
      comment: 'The Durable Object serves agents; it knows nothing of HTTP routes or pages.',
      severity: 'error',
      from: { path: '^src/session/' },
      to: { path: '^src/(routes|web)/' },
    },
    {
      name: 'web-not-routes',
      comment: 'Pages share code with routes through auth/, db/queries/ or flows/, never a route file.',
      severity: 'error',
      from: { path: '^src/web/' },
      to: { path: '^src/routes/' },
    },
    {
      name: 'routes-not-web',
      comment: 'Routes share helpers with pages through auth/, db/queries/ or flows/, not by importing web/.',
      severity: 'error',
      from: { path: '^src/routes/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'session-class-behind-stub',
      comment: 'The Durable Object class stays behind session/stub (index.ts exports it; session/ uses it).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(index\\.ts$|session/)' },
      to: { path: '^src/session/agent-session\\.ts$' },
    },
    {
      name: 'results-not-http-errors',
      comment:
        'flows/, db/, engine/, ledger/ and session/ return results (a refusal carries its ErrorCode: ' +
        'flows/refusal.ts); only routes/ and web/ turn them into HTTP errors (errors.ts orThrow, found). ' +
        'Type imports of errors.ts are fine.',
      severity: 'error',
      from: { path: '^src/(flows|db|engine|ledger|session)/' },
      to: { path: '^src/errors\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'leaf-modules',
      comment: 'errors.ts and log.ts are imported everywhere, so they import nothing of ours.',
      severity: 'error',
      from: { path: '^src/(errors|log)\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'agent-only-protocol',
      comment:
        'The agent is a separate bundle installed on EC2: it shares only the wire contract with the Worker.',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^src/', pathNot: '^src/protocol\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are edges too: a cycle through `import type` still ties two modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
