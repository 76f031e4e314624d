/**
 * @module Turning a stored entry into the response a client gets: the origin's headers (with its
 * `Cache-Control`, `Vary` and validators), a correct `Age` (RFC 9111 §5.1), `Cache-Status` and
 * `Server-Timing`, and a 304 when the client's conditional request matches (RFC 9110 §13.1).
 */
import { currentAge, entryHeader, EntryFlag, type CacheEntry } from './entry.ts'
import { buildNotModified, evaluateConditional } from './policy/conditional.ts'
import { heldRange, ifRangeAllows, rangeOf, rangeWithin } from './policy/range.ts'
import { sliceStream } from './body-stream.ts'
import type { LookupStatus } from './observe/lookup-status.ts'
import { EDGE_META_HEADER, type EdgeEntry } from './tiers/edge-form.ts'

/**
 * Stored fields that stop here: `Cache-Tag`/`Surrogate-Key` are for purging (Cloudflare strips
 * `Cache-Tag` before clients too) and the Cloudflare-targeted field is for this CDN only (RFC 9213).
 */
const NOT_FORWARDED = new Set(['cache-tag', 'surrogate-key', 'cloudflare-cdn-cache-control'])

/**
 * Entries are immutable once stored, so the headers a client gets are built once per entry, as a
 * `Headers` object that each response starts from. workerd copies a `Headers` init natively; building
 * one from an array of pairs on every hit cost about 30 µs, most of a memory hit's own work
 * (`npm run bench:profile`). Entries decoded from a shared tier are new objects, so they build theirs
 * once per request.
 */
const templateByEntry = new WeakMap<CacheEntry, Headers>()
const template = (entry: CacheEntry): Headers => {
  let headers = templateByEntry.get(entry)
  if (!headers) {
    // append() per field: workerd converts a list of pairs several times slower than this.
    headers = new Headers()
    for (const [name, value] of entry.headers) if (!NOT_FORWARDED.has(name)) headers.append(name, value)
    // The stored body's length, for GET and HEAD alike (a streamed entry's length is set per response).
    if (entry.status !== 204 && entry.status !== 304 && entry.body.byteLength > 0) headers.set('content-length', String(entry.body.byteLength))
    // Ranges of a complete stored 200 are served from cache (RFC 9110 §14.3), unless the origin says none.
    if (entry.status === 200 && !headers.has('accept-ranges')) headers.set('accept-ranges', 'bytes')
    if (entry.flags & (EntryFlag.PerUser | EntryFlag.PrivateDownstream)) headers.set('cache-control', privateCacheControl(headers.get('cache-control')))
    templateByEntry.set(entry, headers)
  }
  return headers
}

/**
 * Rewrites `Cache-Control` for a per-user or cookie-cohort entry so no downstream shared cache keeps it:
 * `private` (RFC 9111 §5.2.2.7) replaces `public`, `s-maxage` and `proxy-revalidate`, which speak only to
 * shared caches; `max-age` and the rest stay, so the browser still caches it for its user.
 */
export function privateCacheControl(value: string | null): string {
  const kept = (value ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d && !/^(public|private|s-maxage|proxy-revalidate)\b/i.test(d))
  return ['private', ...kept].join(', ')
}

/**
 * A range of the stored body (RFC 9110 §14), or undefined when the whole body is to be sent: no usable
 * range, several ranges, a failed `If-Range`, or a streamed body of unknown length.
 */
function servePartial(
  request: Request,
  entry: CacheEntry,
  validators: { etag: string | null; lastModified: string | null },
  age: string,
  status: LookupStatus,
  stream: ReadableStream<Uint8Array> | undefined,
  length: number | undefined
): Response | undefined {
  if (length === undefined || !ifRangeAllows(request.headers.get('if-range'), validators)) return undefined
  const range = rangeOf(request.headers.get('range'), length)
  if (range.kind === 'full') return undefined
  if (range.kind === 'unsatisfiable') {
    void stream?.cancel().catch(() => {})
    const headers = new Headers(template(entry))
    headers.set('age', age)
    headers.delete('content-length')
    headers.set('content-range', `bytes */${length}`)
    decorate(headers, status)
    return new Response(null, { status: 416, headers })
  }
  const body = stream ? sliceStream(stream, range.start, range.end) : entry.body.subarray(range.start, range.end + 1)
  return partialContent(entry, age, status, range, length, body)
}

/**
 * The requested bytes from a stored partial (206) entry: the request's range must lie within the range it
 * holds (admitted only then, src/stack/judge.ts); its offsets are shifted by where the stored part starts.
 */
function servePart(request: Request, entry: CacheEntry, age: string, status: LookupStatus): Response | undefined {
  const held = heldRange(entryHeader(entry, 'content-range'))
  const range = held && rangeWithin(request.headers.get('range'), held)
  if (!held || !range) return undefined
  return partialContent(entry, age, status, range, held.length, entry.body.subarray(range.start - held.start, range.end - held.start + 1))
}

/**
 * A 206 carrying `body`, bytes `range.start`–`range.end` of a representation of `length` bytes (RFC 9110
 * §15.3.7, §14.4), with the stored entry's other fields.
 */
function partialContent(
  entry: CacheEntry,
  age: string,
  status: LookupStatus,
  range: { start: number; end: number },
  length: number,
  body: ReadableStream<Uint8Array> | Uint8Array
): Response {
  const headers = new Headers(template(entry))
  headers.set('age', age)
  headers.set('content-range', `bytes ${range.start}-${range.end}/${length}`)
  headers.set('content-length', String(range.end - range.start + 1))
  decorate(headers, status)
  return new Response(body, { status: 206, headers })
}

/** Adds the observability headers every answer carries. */
export function decorate(headers: Headers, status: LookupStatus): void {
  const cacheStatus = status.cacheStatus()
  if (cacheStatus) headers.set('cache-status', cacheStatus)
  const timing = status.serverTiming()
  if (timing) headers.append('server-timing', timing)
}

/**
 * Whether a fresh edge hit can be answered straight from the stored response by {@link serveEdgeHit}: a
 * plain GET or HEAD of a complete response with a body status (no range, and no conditional that would
 * make it a 304). Everything else takes {@link serveEntry} with the body read.
 */
export function edgeHitServable(request: Request, entry: EdgeEntry, stored: Response): boolean {
  if (entry.status === 204 || entry.status === 206 || entry.status === 304) return false
  if (request.method !== 'HEAD' && request.headers.has('range')) return false
  const fields = stored.headers
  const validators = {
    get etag() {
      return fields.get('etag')
    },
    get lastModified() {
      return fields.get('last-modified')
    },
    get date() {
      return fields.get('date')
    },
    status: entry.status,
  }
  return evaluateConditional(request.headers, validators, request.method === 'HEAD' ? 'HEAD' : 'GET') === 'full'
}

/**
 * Serves a fresh edge hit from the stored response (src/tiers/edge-form.ts): its header fields are the
 * entry's and are copied natively; only the edge's own fields come off and the metadata field's reserved
 * ones (the origin's `Cache-Control`, `Vary`, …) go back on, with `Age`, `Cache-Status` and
 * `Server-Timing`. The same answer {@link serveEntry} gives, without reading the body into the isolate.
 * Call only when {@link edgeHitServable} says so.
 */
export function serveEdgeHit(request: Request, entry: EdgeEntry, stored: Response, now: number, status: LookupStatus): Response {
  const head = request.method === 'HEAD'
  if (head) void stored.body?.cancel().catch(() => {})
  const response = new Response(head ? null : stored.body, { status: entry.status, headers: stored.headers })
  const headers = response.headers
  headers.delete(EDGE_META_HEADER)
  headers.delete('cache-tag')
  headers.delete('cf-cache-status')
  let cacheControl: string | null = null
  for (const [name, value] of entry.reserved) {
    if (name === 'cache-control') cacheControl = value
    else if (!NOT_FORWARDED.has(name)) headers.append(name, value)
  }
  if (entry.flags & (EntryFlag.PerUser | EntryFlag.PrivateDownstream)) cacheControl = privateCacheControl(cacheControl)
  if (cacheControl === null) headers.delete('cache-control')
  else headers.set('cache-control', cacheControl)
  headers.set('age', String(Math.floor(currentAge(entry, now) / 1000)))
  decorate(headers, status)
  return response
}

/**
 * Builds the client response for `entry` at `now`. `ownHeaders` are fields of the origin response
 * that were not stored but belong to the client whose request filled the entry (its `Set-Cookie`
 * under `private="Set-Cookie"`, RFC 9111 §5.2.2.7). `stream`, when given, is the body (a large entry that
 * is streamed rather than held in memory; `bodyLength` is its length when known); it is cancelled when the
 * answer has no body (304, HEAD).
 *
 * `Content-Length` is the stored body's length (RFC 9110 §8.6: a HEAD answer "may" carry the length the
 * GET would have; tiercache sends it so a HEAD from cache matches a HEAD from the origin).
 */
export function serveEntry(
  request: Request,
  entry: CacheEntry,
  now: number,
  status: LookupStatus,
  ownHeaders?: Array<[string, string]>,
  stream?: ReadableStream<Uint8Array>,
  bodyLength?: number
): Response {
  const method = request.method === 'HEAD' ? 'HEAD' : 'GET'
  const age = String(Math.floor(currentAge(entry, now) / 1000))
  // Without Last-Modified, If-Modified-Since is judged against the stored Date (RFC 9111 §4.3.2). Read
  // only when a conditional request asks: most hits are unconditional.
  const validators = {
    get etag() {
      return entryHeader(entry, 'etag') ?? null
    },
    get lastModified() {
      return entryHeader(entry, 'last-modified') ?? null
    },
    get date() {
      return entryHeader(entry, 'date') ?? null
    },
    status: entry.status,
  }
  if (evaluateConditional(request.headers, validators, method) === 'not-modified') {
    void stream?.cancel().catch(() => {})
    const notModified = buildNotModified(template(entry))
    notModified.set('age', age)
    decorate(notModified, status)
    return new Response(null, { status: 304, headers: notModified })
  }
  const nullBody = method === 'HEAD' || entry.status === 204 || entry.status === 304
  if (nullBody) void stream?.cancel().catch(() => {})
  if (!nullBody && entry.status === 200 && request.headers.has('range')) {
    const partial = servePartial(request, entry, validators, age, status, stream, stream ? bodyLength : entry.body.byteLength)
    if (partial) return partial
  }
  if (!nullBody && entry.status === 206) {
    const part = servePart(request, entry, age, status)
    if (part) return part
  }
  const body = nullBody ? null : (stream ?? entry.body)
  const response = new Response(body, { status: entry.status, headers: template(entry) })
  const headers = response.headers
  for (const [name, value] of ownHeaders ?? []) headers.append(name, value)
  if (stream && bodyLength !== undefined && entry.status !== 204) headers.set('content-length', String(bodyLength))
  headers.set('age', age)
  decorate(headers, status)
  return response
}
