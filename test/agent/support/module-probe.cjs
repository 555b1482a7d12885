// Preloaded into the agent bundle (`node --require`): at exit, writes the internal modules the process
// loaded to $SPOTGUARD_MODULE_PROBE, so a test can assert that undici (fetch) never loaded.
const { writeFileSync } = require('node:fs')

process.on('exit', () => {
  const out = process.env.SPOTGUARD_MODULE_PROBE
  if (out) writeFileSync(out, JSON.stringify(process.moduleLoadList))
})
