/** The legacy agent bodies of test/fixtures/legacy-agent-bodies/ (copied from the wire contract's test vectors), imported as JSON. */
import cleanupReportV4Error from '../../fixtures/legacy-agent-bodies/cleanup-report-v4-error.json'
import cleanupReportV4 from '../../fixtures/legacy-agent-bodies/cleanup-report-v4.json'
import emergencyRebalanceV4 from '../../fixtures/legacy-agent-bodies/create-emergency-replica-rebalance-v4.json'
import emergencyTerminationV4 from '../../fixtures/legacy-agent-bodies/create-emergency-replica-termination-v4.json'
import pricingReportV3 from '../../fixtures/legacy-agent-bodies/pricing-report-v3.json'
import pricingReportV4Ondemand from '../../fixtures/legacy-agent-bodies/pricing-report-v4-ondemand.json'
import pricingReportV4 from '../../fixtures/legacy-agent-bodies/pricing-report-v4.json'
import rebalanceV4 from '../../fixtures/legacy-agent-bodies/rebalance-recommendation-v4.json'
import registerV3 from '../../fixtures/legacy-agent-bodies/register-v3.json'
import registerV4 from '../../fixtures/legacy-agent-bodies/register-v4.json'
import replicaCreateManualV4 from '../../fixtures/legacy-agent-bodies/replica-create-manual-v4.json'
import replicaPutInstanceV4 from '../../fixtures/legacy-agent-bodies/replica-put-instance-v4.json'
import replicaStatusFailedV4 from '../../fixtures/legacy-agent-bodies/replica-status-failed-v4.json'
import replicaStatusReadyV4 from '../../fixtures/legacy-agent-bodies/replica-status-ready-v4.json'
import replicaStatusSyncingV4 from '../../fixtures/legacy-agent-bodies/replica-status-syncing-v4.json'
import switchReportV3 from '../../fixtures/legacy-agent-bodies/switch-report-v3.json'
import switchReportV4 from '../../fixtures/legacy-agent-bodies/switch-report-v4.json'
import terminationImminentV4 from '../../fixtures/legacy-agent-bodies/termination-imminent-v4.json'

export const vectors = {
  cleanupReportV4,
  cleanupReportV4Error,
  emergencyRebalanceV4,
  emergencyTerminationV4,
  pricingReportV3,
  pricingReportV4,
  pricingReportV4Ondemand,
  rebalanceV4,
  registerV3,
  registerV4,
  replicaCreateManualV4,
  replicaPutInstanceV4,
  replicaStatusFailedV4,
  replicaStatusReadyV4,
  replicaStatusSyncingV4,
  switchReportV3,
  switchReportV4,
  terminationImminentV4,
}

/** A deep copy, so a test can fill in its own ids. */
export function vector<K extends keyof typeof vectors>(name: K): (typeof vectors)[K] {
  return structuredClone(vectors[name])
}
