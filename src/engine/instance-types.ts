/**
 * The shipped instance-type table: what the engine needs to know of a type to tell whether a workload
 * can run on it. Source: AWS's published specifications (aws.amazon.com/ec2/instance-types, the same
 * fields as `DescribeInstanceTypes`: VCpuInfo, MemoryInfo, ProcessorInfo.SupportedArchitectures,
 * NetworkInfo.EnaSupport, EbsInfo.NvmeSupport) and the us-east-1 Linux on-demand list prices,
 * transcribed 2026-12-07. The prices are a reference for the backtest's price files only: the Worker
 * reads on-demand prices from the Price List.
 */

export type Architecture = 'x86_64' | 'arm64'

export interface InstanceTypeSpec {
  instanceType: string
  family: string
  /** The family's generation (the digit in its name: m5 → 5, t3 → 3). */
  generation: number
  architecture: Architecture
  vcpus: number
  memoryGiB: number
  /** CPU credits instead of dedicated cores (t2, t3, t3a, t4g). */
  burstable: boolean
  /** Nitro: the image must carry the ENA driver (EnaSupport "required"). */
  enaRequired: boolean
  /** Nitro: EBS volumes appear as NVMe devices; the image must have the NVMe driver. */
  nvmeRequired: boolean
  /** us-east-1 Linux on-demand price, USD/h (a reference, see above). */
  onDemandUsEast1: number
}

interface Family {
  family: string
  generation: number
  architecture: Architecture
  burstable: boolean
  nitro: boolean
  /** Memory per vCPU of the fixed-performance sizes, GiB. */
  gibPerVcpu: number
  /** On-demand price of `large` (us-east-1 Linux), USD/h; sizes scale with vCPUs. */
  largePrice: number
}

// prettier-ignore
const FAMILIES: Family[] = [
  { family: 'm5', generation: 5, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.096 },
  { family: 'm5a', generation: 5, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.086 },
  { family: 'm6i', generation: 6, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.096 },
  { family: 'm6a', generation: 6, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.0864 },
  { family: 'm7i', generation: 7, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.1008 },
  { family: 'm7a', generation: 7, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.11592 },
  { family: 'm4', generation: 4, architecture: 'x86_64', burstable: false, nitro: false, gibPerVcpu: 4, largePrice: 0.1 },
  { family: 'c5', generation: 5, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 2, largePrice: 0.085 },
  { family: 'c5a', generation: 5, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 2, largePrice: 0.077 },
  { family: 'c6i', generation: 6, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 2, largePrice: 0.085 },
  { family: 'c6a', generation: 6, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 2, largePrice: 0.0765 },
  { family: 'c7i', generation: 7, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 2, largePrice: 0.08925 },
  { family: 'r5', generation: 5, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 8, largePrice: 0.126 },
  { family: 'r5a', generation: 5, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 8, largePrice: 0.113 },
  { family: 'r6i', generation: 6, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 8, largePrice: 0.126 },
  { family: 'r6a', generation: 6, architecture: 'x86_64', burstable: false, nitro: true, gibPerVcpu: 8, largePrice: 0.1134 },
  { family: 'm6g', generation: 6, architecture: 'arm64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.077 },
  { family: 'm7g', generation: 7, architecture: 'arm64', burstable: false, nitro: true, gibPerVcpu: 4, largePrice: 0.0816 },
  { family: 'c6g', generation: 6, architecture: 'arm64', burstable: false, nitro: true, gibPerVcpu: 2, largePrice: 0.068 },
  { family: 'c7g', generation: 7, architecture: 'arm64', burstable: false, nitro: true, gibPerVcpu: 2, largePrice: 0.0725 },
  { family: 'r6g', generation: 6, architecture: 'arm64', burstable: false, nitro: true, gibPerVcpu: 8, largePrice: 0.1008 },
  // burstable: medium and large both have 2 vCPUs (4 and 8 GiB), then 4 GiB per vCPU
  { family: 't3', generation: 3, architecture: 'x86_64', burstable: true, nitro: true, gibPerVcpu: 4, largePrice: 0.0832 },
  { family: 't3a', generation: 3, architecture: 'x86_64', burstable: true, nitro: true, gibPerVcpu: 4, largePrice: 0.0752 },
  { family: 't2', generation: 2, architecture: 'x86_64', burstable: true, nitro: false, gibPerVcpu: 4, largePrice: 0.0928 },
  { family: 't4g', generation: 4, architecture: 'arm64', burstable: true, nitro: true, gibPerVcpu: 4, largePrice: 0.0672 },
]

/** Sizes shipped: vCPUs and the share of `large`'s price; `medium` only for burstable families. */
const SIZES = [
  { size: 'medium', vcpus: 2, priceShare: 0.5, burstableOnly: true },
  { size: 'large', vcpus: 2, priceShare: 1, burstableOnly: false },
  { size: 'xlarge', vcpus: 4, priceShare: 2, burstableOnly: false },
  { size: '2xlarge', vcpus: 8, priceShare: 4, burstableOnly: false },
]

function specOf(f: Family, s: (typeof SIZES)[number]): InstanceTypeSpec {
  return {
    instanceType: `${f.family}.${s.size}`,
    family: f.family,
    generation: f.generation,
    architecture: f.architecture,
    vcpus: s.vcpus,
    // a burstable medium has half a large's memory on the same 2 vCPUs
    memoryGiB: s.size === 'medium' ? 4 : f.gibPerVcpu * s.vcpus,
    burstable: f.burstable,
    enaRequired: f.nitro,
    nvmeRequired: f.nitro,
    onDemandUsEast1: Math.round(f.largePrice * s.priceShare * 1e5) / 1e5,
  }
}

export const INSTANCE_TYPES: readonly InstanceTypeSpec[] = FAMILIES.flatMap((f) =>
  SIZES.filter((s) => f.burstable || !s.burstableOnly).map((s) => specOf(f, s)),
)

const BY_TYPE = new Map(INSTANCE_TYPES.map((t) => [t.instanceType, t]))

/** The shipped spec of a type, or undefined for a type the table does not know. */
export function instanceTypeSpec(instanceType: string): InstanceTypeSpec | undefined {
  return BY_TYPE.get(instanceType)
}
