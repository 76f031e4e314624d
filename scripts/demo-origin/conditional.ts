/**
 * @module Conditional GET/HEAD for every endpoint that sends validators (RFC 9110 §13).
 *
 * The server applies this after the handler, so any 200 carrying `ETag` or `Last-Modified` answers 304 the
 * same way; endpoints only decide which validators they send. That is what lets the worker's revalidation
 * (RFC 9111 §4.3) be tested against `/public/:id`, `/etag/:id`, `/no-cache`, `/heuristic` and items alike.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { HeaderMap, Reply } from './http.ts'

/** A parsed entity-tag (RFC 9110 §8.8.3). */
interface EntityTag {
  weak: boolean
  opaque: string
}

/** Matches one entity-tag; `"` delimits it, so commas inside the opaque part are safe. */
const ENTITY_TAG = /(W\/)?"([^"]*)"/g

/** Parses an `If-None-Match` / `If-Match` value: `*` or a list of entity-tags. */
export function parseEntityTags(value: string): '*' | EntityTag[] {
  if (value.trim() === '*') return '*'
  return [...value.matchAll(ENTITY_TAG)].map((m) => ({ weak: m[1] !== undefined, opaque: m[2] ?? '' }))
}

function parseOne(value: string): EntityTag | undefined {
  const [tag] = [...value.matchAll(ENTITY_TAG)]
  return tag ? { weak: tag[1] !== undefined, opaque: tag[2] ?? '' } : undefined
}

/** Weak comparison (RFC 9110 §8.8.3.2): opaque parts equal, weakness ignored. Used by If-None-Match. */
export function weakMatch(list: string, etag: string): boolean {
  const tags = parseEntityTags(list)
  if (tags === '*') return true
  const current = parseOne(etag)
  return current !== undefined && tags.some((t) => t.opaque === current.opaque)
}

/** Strong comparison (RFC 9110 §8.8.3.2): neither weak, opaque parts equal. Used by If-Match. */
export function strongMatch(list: string, etag: string | undefined): boolean {
  const tags = parseEntityTags(list)
  if (tags === '*') return etag !== undefined
  const current = etag === undefined ? undefined : parseOne(etag)
  if (current === undefined || current.weak) return false
  return tags.some((t) => !t.weak && t.opaque === current.opaque)
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v)

function headerValue(headers: HeaderMap, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name)
  const value = key === undefined ? undefined : headers[key]
  return typeof value === 'string' ? value : undefined
}

/**
 * True when a GET/HEAD for a representation with these validators should be answered 304.
 *
 * RFC 9110 §13.2.2 order: `If-None-Match` is evaluated first and, when present, `If-Modified-Since` is
 * ignored (§13.1.3: "A recipient MUST ignore If-Modified-Since if the request contains an If-None-Match").
 * An invalid `If-Modified-Since` date is ignored too.
 */
export function isNotModified(request: IncomingHttpHeaders, etag: string | undefined, lastModified: string | undefined): boolean {
  const ifNoneMatch = first(request['if-none-match'])
  if (ifNoneMatch !== undefined) return etag !== undefined && weakMatch(ifNoneMatch, etag)
  const ifModifiedSince = first(request['if-modified-since'])
  if (ifModifiedSince === undefined || lastModified === undefined) return false
  const since = Date.parse(ifModifiedSince)
  const modified = Date.parse(lastModified)
  if (Number.isNaN(since) || Number.isNaN(modified)) return false
  return modified <= since
}

/**
 * Representation metadata a 304 should not repeat (RFC 9110 §15.4.5 lists what it must carry: Cache-Control,
 * Content-Location, Date, ETag, Expires, Vary). Dropping these keeps a cache's header refresh (RFC 9111
 * §4.3.4) from overwriting the stored body's own length, type or coding.
 */
const NOT_IN_304 = new Set(['content-length', 'content-type', 'content-encoding', 'content-language'])

/** Turns a 200 into 304 when the request's preconditions say the client already has it; otherwise returns it. */
export function applyConditional(request: IncomingHttpHeaders, reply: Reply): Reply {
  if (reply.status !== 200) return reply
  const etag = headerValue(reply.headers, 'etag')
  const lastModified = headerValue(reply.headers, 'last-modified')
  if (etag === undefined && lastModified === undefined) return reply
  if (!isNotModified(request, etag, lastModified)) return reply
  const headers: HeaderMap = {}
  for (const [name, value] of Object.entries(reply.headers)) {
    if (!NOT_IN_304.has(name.toLowerCase())) headers[name] = value
  }
  return { status: 304, headers }
}
