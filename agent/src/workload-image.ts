/**
 * What the workload's image boots, for the control plane's choice of instance types (registration's
 * `image_architecture` and `image_ena_support`): DescribeImages of the AMI this instance runs (a switch's
 * instance runs a SpotGuard AMI of the one before, which EC2 describes the same). Unknown (null) when
 * IMDS named no AMI or EC2 did not describe it (denied, deregistered): the control plane then takes
 * what the instance's type proves.
 */
import { describeImages } from './ec2-operations'
import type { Ec2 } from './ec2-transport'
import type { Log } from './log'

export interface WorkloadImage {
  /** DescribeImages' `Architecture`: `x86_64`, `arm64`... */
  architecture: string
  /** DescribeImages' `EnaSupport` (absent there: false). */
  enaSupport: boolean
}

/** The image `amiId` as EC2 describes it; null (logged) when unknown. Never throws. */
export async function readWorkloadImage(
  ec2: Ec2,
  amiId: string | null,
  log: Log,
): Promise<WorkloadImage | null> {
  if (!amiId) return null
  const unknown = (error: string) => {
    log.warn("workload image not described: instance types are chosen by what this instance's type boots", {
      ami_id: amiId,
      error,
    })
    return null
  }
  try {
    const [image] = await describeImages(ec2, [amiId])
    if (!image?.architecture) return unknown('DescribeImages named no architecture')
    return { architecture: image.architecture, enaSupport: image.enaSupport }
  } catch (err) {
    return unknown(err instanceof Error ? err.message : String(err))
  }
}
