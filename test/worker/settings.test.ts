/** The Worker's vars are parsed once per env: defaults for what is missing or mistyped, never a throw. */
import { describe, expect, it } from 'vitest'
import { settingsOf, type Env } from '../../src/env'

const envWith = (vars: Record<string, string>) => ({ ADMIN_TOKEN: 'x', ...vars }) as unknown as Env

describe('settingsOf', () => {
  it('defaults every setting a deployed Worker leaves unset', () => {
    expect(settingsOf(envWith({}))).toEqual({
      tokenGraceHours: 24,
      simClock: null,
      d1Meter: false,
      soakReads: false,
      webhookAllowHttp: false,
      identityTrust: [],
    })
  })

  it('reads the vars a local simulation and the benchmarks set', () => {
    const settings = settingsOf(
      envWith({
        TOKEN_GRACE_HOURS: '0',
        SIM_CLOCK: '1796573855972x80',
        D1_METER: 'on',
        SOAK_READS: 'on',
        WEBHOOK_ALLOW_HTTP: 'on',
      }),
    )
    expect(settings).toEqual({
      tokenGraceHours: 0,
      simClock: { origin: 1796573855972, speed: 80 },
      d1Meter: true,
      soakReads: true,
      webhookAllowHttp: true,
      identityTrust: [],
    })
  })

  it('takes every PEM certificate of IID_TRUST_CERTS, on one line or many, and nothing else', () => {
    const cert = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`
    const two = `${cert('QUJD')}\n${cert('REVG')}`
    expect(settingsOf(envWith({ IID_TRUST_CERTS: two })).identityTrust).toEqual([cert('QUJD'), cert('REVG')])
    expect(settingsOf(envWith({ IID_TRUST_CERTS: two.replaceAll('\n', ' ') })).identityTrust).toHaveLength(2)
    expect(settingsOf(envWith({ IID_TRUST_CERTS: 'not a certificate' })).identityTrust).toEqual([])
  })

  it('falls back to the default for a mistyped value instead of failing every request', () => {
    const settings = settingsOf(envWith({ TOKEN_GRACE_HOURS: 'a day', SIM_CLOCK: '80x', D1_METER: 'yes' }))
    expect(settings.tokenGraceHours).toBe(24)
    expect(settings.simClock).toBeNull()
    expect(settings.d1Meter).toBe(false)
    expect(settingsOf(envWith({ TOKEN_GRACE_HOURS: ' ' })).tokenGraceHours).toBe(24)
    expect(settingsOf(envWith({ TOKEN_GRACE_HOURS: '-1' })).tokenGraceHours).toBe(24)
  })

  it('parses an env once', () => {
    const env = envWith({ TOKEN_GRACE_HOURS: '6' })
    expect(settingsOf(env)).toBe(settingsOf(env))
  })
})
