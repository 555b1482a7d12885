/** `/__debug`: benchmark and soak routes, each off unless its var turns it on; not in the OpenAPI document. */
import { Hono } from 'hono'
import type { AppEnv } from '../../env'
import { meterRoutes } from './meter'
import { soakRows } from './soak-rows'

export const debug = new Hono<AppEnv>()
debug.route('/', meterRoutes)
debug.route('/soak-rows', soakRows)
