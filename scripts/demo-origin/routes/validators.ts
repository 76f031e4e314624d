/**
 * @module Freshness and validator endpoints: where a lifetime comes from when `Cache-Control` does not say
 * (RFC 9111 §4.2.1 `Expires`, §4.2.2 heuristics) and which validator a revalidation uses (RFC 9110 §8.8).
 * The 304s themselves come from the shared conditional step in the server, except where `/revalidate/:id` is
 * told to answer 304 to a validator that does not match.
 */
import { header, httpDate, intParam, problem, textReply, type OriginRequest, type Reply, type Route } from '../http.ts'
import { withId } from './policies.ts'

const DAY_MS = 86_400_000

/** One entity-tag, strong or weak (RFC 9110 §8.8.3). */
const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7e]*"$/

/**
 * `/revalidate/:id`: an origin whose answer the request steers, so a test can change the origin's mind
 * between a cache's fill and its revalidation (RFC 9111 §4.3.4) with the cache key unchanged:
 * `X-Demo-ETag` is the current entity-tag, `X-Demo-Cache-Control` the `Cache-Control` sent (on the 200 and
 * on a 304 alike), and `X-Demo-Not-Modified: always` answers every conditional request 304 with those
 * headers, whether its validator matches or not, as a lagging replica or a careless origin would.
 */
function steeredRevalidation(req: OriginRequest, id: string): Reply {
  const etag = header(req, 'x-demo-etag') ?? `"revalidate-${id}"`
  if (!ENTITY_TAG.test(etag)) return problem(400, 'X-Demo-ETag must be one entity-tag, like "v2" or W/"v2"')
  const headers = { 'Cache-Control': header(req, 'x-demo-cache-control') ?? 'max-age=60', ETag: etag }
  const conditional = header(req, 'if-none-match') !== undefined || header(req, 'if-modified-since') !== undefined
  if (conditional && header(req, 'x-demo-not-modified') === 'always') return { status: 304, headers }
  // Otherwise the server's shared conditional step answers 304 only to a matching validator.
  return textReply(req, `revalidate ${id}, entity-tag ${etag}`, headers)
}

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
      methods: ['GET'],
      pattern: '/revalidate/:id',
      handle: (req) => withId(req, (id) => steeredRevalidation(req, id)),
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
