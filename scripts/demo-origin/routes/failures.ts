/**
 * @module Slow and failing endpoints: what the cache does while the origin is slow (single-flight, fenced
 * fills, deadlines) and with error statuses (design §4.3: not stored unless the origin explicitly allows).
 * For whole-origin outages use the fault switch instead (see `faults.ts`).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { intParam, problem, textReply, type Route } from '../http.ts'

/** Upper bound for `/slow?ms=`, so a typo cannot hold a connection for hours. */
const MAX_SLOW_MS = 120_000

/** Redirect statuses get a `Location` so clients see a well-formed redirect (RFC 9110 §10.2.2). */
const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** Statuses that never carry content (RFC 9110 §15.3.5, §15.3.6, §15.4.5). */
const NO_CONTENT = new Set([204, 205, 304])

/** The failure routes. */
export function failureRoutes(): Route[] {
  return [
    {
      // Cacheable once it arrives, so concurrent cold requests prove single-flight (design §5 stampedes).
      methods: ['GET'],
      pattern: '/slow',
      handle: async (req) => {
        const ms = intParam(req.query.get('ms'), 0, MAX_SLOW_MS, 2000)
        if (ms === undefined) return problem(400, `ms must be a whole number 0..${MAX_SLOW_MS}`)
        await sleep(ms, undefined, { signal: req.signal })
        return textReply(req, `slow response after ${ms} ms`, { 'Cache-Control': 'public, max-age=60' })
      },
    },
    {
      // No cache headers: 5xx are not cacheable by default (RFC 9110 §15.1), so nothing may store this.
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      pattern: '/fail',
      handle: (req) => {
        const status = intParam(req.query.get('status'), 400, 599, 500)
        if (status === undefined) return problem(400, 'status must be 400..599')
        return textReply(req, `failing with ${status}`, {}, status)
      },
    },
    {
      // Any status with explicit freshness: 404/410/301 may then be stored (RFC 9111 §3), 500 only because
      // max-age says so explicitly (design §4.3).
      methods: ['GET'],
      pattern: '/status/:code',
      handle: (req) => {
        const status = intParam(req.params['code'], 200, 599)
        if (status === undefined || status === 206) return problem(400, 'code must be 200..599 (not 206)')
        const headers: Record<string, string> = { 'Cache-Control': 'max-age=60' }
        if (REDIRECTS.has(status)) headers['Location'] = '/public/redirect-target'
        if (NO_CONTENT.has(status)) return { status, headers }
        return textReply(req, `status ${status}`, headers, status)
      },
    },
    {
      // The explicit opt-in for storing an error (design §4.3).
      methods: ['GET'],
      pattern: '/error-cacheable',
      handle: (req) => textReply(req, 'an error the origin says may be cached', { 'Cache-Control': 'public, max-age=30' }, 500),
    },
  ]
}
