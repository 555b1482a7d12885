/** EC2 API errors: a code AWS uses, its message, and the HTTP status EC2 answers it with. */

export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const STATUS: Record<string, number> = {
  AuthFailure: 401,
  SignatureDoesNotMatch: 403,
  UnauthorizedOperation: 403,
  DryRunOperation: 412,
  RequestLimitExceeded: 503,
  ServiceUnavailable: 503,
  Unavailable: 503,
  InsufficientInstanceCapacity: 500,
  InsufficientCapacity: 500,
  InternalError: 500,
}

/** EC2 answers client errors with 400 unless listed. */
export function statusOf(code: string): number {
  return STATUS[code] ?? 400
}

const MESSAGES: Record<string, string> = {
  InsufficientInstanceCapacity:
    'We currently do not have sufficient capacity in the Availability Zone you requested. Our system will be working on provisioning additional capacity.',
  RequestLimitExceeded: 'Request limit exceeded.',
  UnauthorizedOperation:
    'You are not authorized to perform this operation. Encoded authorization failure message: ZmFrZQ',
  InternalError: 'An internal error has occurred',
  DryRunOperation: 'Request would have succeeded, but DryRun flag is set.',
}

/** The message AWS prints for a code injected without one. */
export function defaultMessage(code: string): string {
  return MESSAGES[code] ?? `Injected failure: ${code}`
}

export function notFound(code: string, what: string, id: string): Ec2Error {
  return new Ec2Error(code, `The ${what} ID '${id}' does not exist`)
}

export function invalidValue(parameter: string, value: string, why = 'is invalid'): Ec2Error {
  return new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${parameter} ${why}`)
}
