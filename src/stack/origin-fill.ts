/**
 * @module A miss (or a stale copy that must be revalidated) goes to the origin: conditionally when the stale
 * copy has validators (RFC 9111 §4.3.1), and what comes back is stored when it may be and served.
 *
 * Every way this can end releases what the request holds (design.md §5): the in-isolate flight is
 * published by the caller, and the Redis fill lease is handed to the fenced fill or released here — on an
 * origin error, a timeout, an uncacheable or too-large answer, a thrown handler — so the next request for
 * the key never waits out the lease.
 *
 * Origin failures (src/stack/origin-call.ts) become the stale copy within `stale-if-error` (RFC 5861 §4)
 * or a clear 502/504; a body is read whole before it is stored, so nothing partial is ever stored.
 */
import { type CacheEntry } from '../entry.ts'
import { declaredLength, planEntry, withBody, type FillContext } from '../entry-from-response.ts'
import { OriginError } from '../errors.ts'
import { originFailureResponse } from '../origin.ts'
import { mergeNotModified, notModifiedApplies } from '../policy/conditional.ts'
import { heldRange } from '../policy/range.ts'
import { NotStorableReason } from '../policy/storable.ts'
import { parseVary } from '../policy/vary.ts'
import { decorate, serveEntry } from '../serve.ts'
import type { FlightResult } from '../coherence/flight.ts'
import { leaseTokenOf, quietly, type Found, type RequestState, type StackContext } from './context.ts'
import { passThrough } from './forward.ts'
import { HIT_FOR_MISS_MS } from './hit-for-miss.ts'
import { OriginCall, type BodyRead } from './origin-call.ts'
import { resumed } from '../body-stream.ts'
import { originRequest } from './origin-request.ts'
import { staleIfError } from './serve-stale.ts'
import { storeEntry, streamToEdge } from './store.ts'

type Publish = (result: FlightResult<CacheEntry>) => void

/**
 * Goes to the origin, stores what may be stored, and answers. Origin failure: stale within
 * `stale-if-error`, else 502/504; neither stored.
 */
export async function fetchAndMaybeStore(context: StackContext, state: RequestState, stale: Found | undefined, publish?: Publish): Promise<Response> {
  try {
    if (state.requestDirectives.has('only-if-cached')) return onlyIfCached(state, publish)
    return await fromOrigin(context, state, stale, publish)
  } finally {
    releaseLease(context, state)
  }
}

/** RFC 9111 §5.2.1.7: "respond with either a stored response or a 504 (Gateway Timeout)". */
function onlyIfCached(state: RequestState, publish: Publish | undefined): Response {
  publish?.({ kind: 'unshareable', reason: 'only-if-cached' })
  state.status.note('memory', { detail: 'only-if-cached' })
  const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' })
  decorate(headers, state.status)
  return new Response(JSON.stringify({ error: 'not in cache (only-if-cached)' }), { status: 504, headers })
}

async function fromOrigin(context: StackContext, state: RequestState, stale: Found | undefined, publish: Publish | undefined): Promise<Response> {
  const { status } = state
  const requestTime = context.options.now()
  const call = new OriginCall(context.options.originTimeoutMs)
  // A range request that found nothing usable asks the origin for that range (a few bytes of a large file
  // must not become a download of all of it), unconditionally.
  const ranged = state.request.headers.has('range')
  let response: Response
  try {
    response = await status.timed('origin', () => call.respond(state.produce, originRequest(context, state.request, ranged ? undefined : stale?.entry)))
    context.stats.record('origin_fetches')
  } catch (error) {
    if (!(error instanceof OriginError)) throw error
    return failed(context, state, stale, error, publish)
  }
  const responseTime = context.options.now()
  if (response.status >= 500 && stale) {
    const served = staleIfError(context, state, stale, response.status)
    if (served) {
      call.release()
      publish?.({ kind: 'unshareable', reason: 'origin-error' })
      void response.body?.cancel().catch(() => {})
      return served
    }
  }
  const fill = fillContext(context, state, requestTime, responseTime)
  if (ranged && response.status === 206) return partialFromOrigin(context, state, call, response, fill, publish)
  if (response.status === 304 && stale && !ranged) {
    call.release()
    void response.body?.cancel().catch(() => {})
    return revalidated(context, state, stale, response.headers, fill, publish)
  }

  const decision = planEntry({ ...fill, response: withCohortVary(response, state.cohortHeaders) })
  if (!decision.ok) {
    call.release()
    publish?.({ kind: 'unshareable', reason: decision.reason })
    status.note('memory', { fwd: status.entries.get('memory')?.fwd ?? 'miss', detail: `uncacheable-${decision.reason}` })
    // Only the origin's answer says the URL is unshareable: a request's own no-store speaks for that request.
    if (decision.reason !== NotStorableReason.RequestNoStore) markUncacheable(context, state)
    status.servedBy = 'origin'
    return passThrough(response, status)
  }
  status.servedBy = 'origin'
  status.outcome = 'miss'
  // What this client's own response carried but later clients must not get: its Set-Cookie (never
  // stored), and fields a qualified private/no-cache withholds from stored copies (RFC 9111 §5.2.2.4, §5.2.2.7).
  const own = response.headers.getSetCookie().map((value): [string, string] => ['set-cookie', value])
  for (const name of decision.withheld) {
    const value = response.headers.get(name)
    if (value !== null && name !== 'set-cookie') own.push([name, value])
  }

  const declared = declaredLength(response.headers)
  let body = response.body
  if (declared === undefined || declared <= context.bufferLimit) {
    const read = await readToStore(context, state, call, response.body, context.bufferLimit, stale, publish)
    if (read instanceof Response) return read
    if (read.complete) {
      const entry = withBody(decision.entry, read.bytes)
      publish?.({ kind: 'value', value: entry })
      context.hitForMiss.clear(state.primaryKey, state.kind)
      storeEntry(context, state, entry)
      return serveEntry(state.request, entry, context.options.now(), status, own)
    }
    body = resumed(read.prefix, read.rest)
  } else {
    call.release()
  }
  // Larger than the tiers that need the bytes: it streams, to the client and into the edge if it fits.
  publish?.({ kind: 'unshareable', reason: 'streamed' })
  const stream = body ? streamToEdge(context, state, decision.entry, body, declared) : null
  return serveEntry(state.request, decision.entry, context.options.now(), status, own, stream ?? undefined, declared)
}

/**
 * A 206 answering a range request: stored as a partial entry when it holds one byte range of a known
 * length and may be stored (RFC 9111 §3.3), so the same or a narrower range is served from it later; a
 * GET for the whole representation never is. Otherwise it streams through.
 */
async function partialFromOrigin(
  context: StackContext,
  state: RequestState,
  call: OriginCall,
  response: Response,
  fill: Omit<FillContext, 'response'>,
  publish: Publish | undefined
): Promise<Response> {
  const { status } = state
  publish?.({ kind: 'unshareable', reason: 'range' })
  status.servedBy = 'origin'
  const held = heldRange(response.headers.get('content-range'))
  const decision = planEntry({ ...fill, partial: true, response })
  const size = held ? held.end - held.start + 1 : Number.POSITIVE_INFINITY
  if (!held || !decision.ok || size > context.bufferLimit) {
    call.release()
    status.note('memory', { detail: decision.ok ? 'range-not-stored' : `uncacheable-${decision.reason}` })
    return passThrough(response, status)
  }
  const read = await readToStore(context, state, call, response.body, size, undefined, publish)
  if (read instanceof Response) return read
  if (!read.complete || read.bytes.byteLength !== size) {
    // Longer or shorter than its Content-Range says: pass it on as it is, store nothing.
    return passThrough(response, status, read.complete ? new Response(read.bytes).body : resumed(read.prefix, read.rest))
  }
  status.outcome = 'miss'
  const entry = withBody(decision.entry, read.bytes)
  storeEntry(context, state, entry)
  return serveEntry(state.request, entry, context.options.now(), status)
}

/**
 * Reads a body that is to be stored, within the origin call's deadline: what was read, or — when the body
 * breaks off or stalls — the answer to that failure (the stale copy, else 502/504).
 */
async function readToStore(
  context: StackContext,
  state: RequestState,
  call: OriginCall,
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  stale: Found | undefined,
  publish: Publish | undefined
): Promise<BodyRead | Response> {
  try {
    return await state.status.timed('origin-body', () => call.read(body, limit))
  } catch (error) {
    if (!(error instanceof OriginError)) throw error
    return failed(context, state, stale, error, publish)
  }
}

/**
 * The answer to an origin failure (counted; waiters are told it is not theirs to share): the stale copy
 * within `stale-if-error`, else a clear 502/504.
 */
function failed(context: StackContext, state: RequestState, stale: Found | undefined, error: OriginError, publish: Publish | undefined): Response {
  context.stats.record('origin_errors')
  publish?.({ kind: 'unshareable', reason: 'origin-error' })
  state.status.note('memory', { detail: `origin-${error.kind}` })
  // The origin gave no usable answer at all: the cache is disconnected (RFC 9111 §4.2.4), grace applies.
  return staleIfError(context, state, stale, error.kind === 'timeout' ? 504 : 502, true) ?? originFailureResponse(error, state.status)
}

/**
 * A 304 refreshes the stored headers (RFC 9111 §4.3.4); one whose validator matches no stored response
 * updates nothing, and the response is fetched in full.
 */
async function revalidated(
  context: StackContext,
  state: RequestState,
  stale: Found,
  notModified: Headers,
  fill: Omit<FillContext, 'response'>,
  publish: Publish | undefined
): Promise<Response> {
  const { status } = state
  const storedHeaders = new Headers(stale.entry.headers)
  if (!notModifiedApplies(storedHeaders, notModified)) return fetchAndMaybeStore(context, state, undefined, publish)
  const merged = mergeNotModified(storedHeaders, notModified)
  // A streamed (large) edge entry's body was read once already: read the edge again for it.
  let stream = stale.stream
  if (stale.streamed && !stream) {
    stream = await context.tiers.edge?.getStream(stale.key)
    if (!stream) return fetchAndMaybeStore(context, state, undefined, publish)
  }
  const decision = planEntry({ ...fill, response: { status: stale.entry.status, headers: merged } })
  status.servedBy = stale.tier
  if (!decision.ok) {
    // The refreshed headers make the response unstorable (RFC 9111 §4.3.4: they replace the stored ones):
    // the stored copy is dropped from every tier, and this client gets the merged answer.
    publish?.({ kind: 'unshareable', reason: decision.reason })
    forget(context, state, stale.key)
    const entry: CacheEntry = { ...stale.entry, headers: [...merged].map(([n, v]) => [n.toLowerCase(), v]) }
    return serveEntry(state.request, entry, context.options.now(), status, undefined, stream, stale.bodyLength)
  }
  status.note(stale.tier, { fwd: 'stale', fwdStatus: 304, stored: true })
  status.outcome = 'revalidated'
  context.stats.record('revalidated')
  if (stream) {
    publish?.({ kind: 'unshareable', reason: 'streamed' })
    // The same stored body, so the same length: the edge keeps it, and ranges can be cut from it.
    const toClient = streamToEdge(context, state, decision.entry, stream, stale.bodyLength)
    return serveEntry(state.request, decision.entry, context.options.now(), status, undefined, toClient, stale.bodyLength)
  }
  const entry = withBody(decision.entry, stale.entry.body)
  publish?.({ kind: 'value', value: entry })
  storeEntry(context, state, entry)
  return serveEntry(state.request, entry, context.options.now(), status)
}

function fillContext(context: StackContext, state: RequestState, requestTime: number, responseTime: number): Omit<FillContext, 'response'> {
  const { memory, edge, redis } = context.options
  return {
    request: state.request,
    requestTime,
    responseTime,
    routeTtl: state.route?.ttl,
    routeTags: state.route?.tags ?? [],
    perUser: state.perUser,
    identity: state.identity,
    privateDownstream: state.cohortCookie,
    heuristic: context.options.heuristic,
    maxBodyBytes: Math.max(memory ? memory.maxEntryBytes : 0, edge ? edge.maxEntryBytes : 0, redis ? redis.maxEntryBytes : 0),
    purgeSeq: state.purgeSeq,
  }
}

/**
 * The response as stored for a cohort route: the cohort's request headers are added to `Vary` (as if the
 * origin had named them), so the tiers key each cohort apart and clients and downstream caches see which
 * request headers the response depends on (RFC 9110 §12.5.5).
 */
function withCohortVary(response: Response, names: readonly string[]): Pick<Response, 'status' | 'headers'> {
  if (names.length === 0) return response
  const vary = response.headers.get('vary')
  const present = parseVary(vary)
  if (present === '*') return response
  const missing = names.filter((name) => !present.includes(name))
  if (missing.length === 0) return response
  const headers = new Headers(response.headers)
  headers.set('vary', [vary, ...missing].filter(Boolean).join(', '))
  return { status: response.status, headers }
}

/** Removes `key` from every tier (its stored response may no longer be stored). */
function forget(context: StackContext, state: RequestState, key: string): void {
  const { memory, edge, redis } = context.tiers
  memory?.delete(key)
  if (edge) state.ctx.waitUntil(quietly(edge.delete([key])))
  if (redis) state.ctx.waitUntil(quietly(redis.delete([key])))
}

/** Remembers that the key's answer is not shareable, here (hit-for-miss) and for other isolates (Redis). */
function markUncacheable(context: StackContext, state: RequestState): void {
  context.hitForMiss.mark(state.primaryKey, state.kind, context.options.now())
  const redis = context.tiers.redis
  if (redis && state.redisRole === 'leader') {
    const token = leaseTokenOf(state)
    state.redisRole = undefined
    state.ctx.waitUntil(quietly(redis.markUncacheable(state.key, token, HIT_FOR_MISS_MS, state.kind)))
  }
  context.stats.record('uncacheable')
}

/** Releases the Redis fill lease if this request still holds it (nothing took it over). */
function releaseLease(context: StackContext, state: RequestState): void {
  const redis = context.tiers.redis
  if (!redis || state.redisRole !== 'leader') return
  state.redisRole = undefined
  state.ctx.waitUntil(quietly(redis.releaseLease(state.key, leaseTokenOf(state))))
}
