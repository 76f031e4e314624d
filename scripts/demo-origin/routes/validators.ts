/**
 * @module Freshness and validator endpoints: where a lifetime comes from when `Cache-Control` does not say
 * (RFC 9111 §4.2.1 `Expires`, §4.2.2 heuristics) and which validator a revalidation uses (RFC 9110 §8.8).
 * The 304s themselves come from the shared conditional step in the server.
 */
import { httpDate, intParam, problem, textReply, type OriginRequest, type Reply, type Route } from '../http.ts'
import { withId } from './policies.ts'

const DAY_MS = 86_400_000

/** Reads an optional `?max-age=` override (default 60) so revalidation tests need not wait a minute. */
function maxAge(req: OriginRequest, then: (seconds: number) => Reply): Reply {
  const seconds = intParam(req.query.get('max-age'), 0, 2_147_483_648, 60)
  return seconds === undefined ? problem(400, 'max-age must be a whole number of seconds') : then(seconds)
}

/** The validator routes; `startedAt` anchors every `Last-Modified` so it is stable across requests. */
export function validatorRoutes(startedAt: number, now: () => number): Route[] {
  const lastModified = httpDate(startedAt)
  return [
    {
      // Strong ETag only: revalidation must use If-None-Match.
      methods: ['GET'],
      pattern: '/etag/:id',
      handle: (req) =>
        withId(req, (id) =>
          maxAge(req, (seconds) =>
            textReply(req, `entity ${id} with a strong ETag`, { 'Cache-Control': `max-age=${seconds}`, ETag: `"etag-${id}"` })
          )
        ),
    },
    {
      // Last-Modified only: revalidation must use If-Modified-Since.
      methods: ['GET'],
      pattern: '/last-modified/:id',
      handle: (req) =>
        withId(req, (id) =>
          maxAge(req, (seconds) =>
            textReply(req, `entity ${id} with only Last-Modified`, {
              'Cache-Control': `max-age=${seconds}`,
              'Last-Modified': lastModified,
            })
          )
        ),
    },
    {
      // RFC 9111 §4.2.2: no explicit lifetime, so a cache may use a fraction (typically 10 %) of the time
      // since Last-Modified: here a day, so about 2.4 hours. 200 is heuristically cacheable (RFC 9110 §15.1).
      methods: ['GET'],
      pattern: '/heuristic',
      handle: (req) => textReply(req, 'no explicit lifetime, modified a day ago', { 'Last-Modified': httpDate(startedAt - DAY_MS) }),
    },
    {
      // RFC 9111 §5.3: Expires alone gives the lifetime, measured against this response's Date (sent here
      // from the same instant so the difference is exactly 60 s).
      methods: ['GET'],
      pattern: '/expires',
      handle: (req) => {
        const at = now()
        return textReply(req, 'fresh until Expires, 60 s after Date', { Date: httpDate(at), Expires: httpDate(at + 60_000) })
      },
    },
  ]
}
