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
import { NotStorableReason } from '../policy/storable.ts'
import { decorate, serveEntry } from '../serve.ts'
import type { FlightResult } from '../coherence/flight.ts'
import { leaseTokenOf, quietly, type Found, type RequestState, type StackContext } from './context.ts'
import { passThrough, relay } from './forward.ts'
import { HIT_FOR_MISS_MS } from './hit-for-miss.ts'
import { OriginCall, resumed } from './origin-call.ts'
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
    if (state.request.headers.has('range')) return await rangeFromOrigin(context, state, publish)
    return await fromOrigin(context, state, stale, publish)
  } finally {
    releaseLease(context, state)
  }
}

/**
 * A range request that found no usable copy goes to the origin as it is, and the (partial) answer is not
 * stored: tiercache stores complete responses and serves ranges of them (RFC 9111 §3.3 allows storing
 * partial content; combining it is left out). Fetching the whole representation instead could turn a
 * request for a few bytes of a large file into a download of all of it.
 */
function rangeFromOrigin(context: StackContext, state: RequestState, publish: Publish | undefined): Promise<Response> {
  publish?.({ kind: 'unshareable', reason: 'range' })
  state.status.note('memory', { fwd: state.status.entries.get('memory')?.fwd ?? 'miss', detail: 'range-miss' })
  state.status.servedBy = 'origin'
  return relay(context, state.request, state.produce, state.status)
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
  let response: Response
  try {
    response = await status.timed('origin', () => call.respond(state.produce, originRequest(context, state.request, stale?.entry)))
    context.stats.record('origin_fetches')
  } catch (error) {
    if (!(error instanceof OriginError)) throw error
    context.stats.record('origin_errors')
    publish?.({ kind: 'unshareable', reason: 'origin-error' })
    return failed(context, state, stale, error)
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
  if (response.status === 304 && stale) {
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
  const own = response.headers.getSetCookie().map((value): [string, string] => ['set-cookie', value])

  const declared = declaredLength(response.headers)
  let body = response.body
  if (declared === undefined || declared <= context.bufferLimit) {
    let read
    try {
      read = await status.timed('origin-body', () => call.read(response.body, context.bufferLimit))
    } catch (error) {
      if (!(error instanceof OriginError)) throw error
      context.stats.record('origin_errors')
      publish?.({ kind: 'unshareable', reason: 'origin-error' })
      return failed(context, state, stale, error)
    }
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

/** The answer to an origin failure: the stale copy within `stale-if-error`, else a clear 502/504. */
function failed(context: StackContext, state: RequestState, stale: Found | undefined, error: OriginError): Response {
  state.status.note('memory', { detail: `origin-${error.kind}` })
  return staleIfError(context, state, stale, error.kind === 'timeout' ? 504 : 502) ?? originFailureResponse(error, state.status)
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
    publish?.({ kind: 'unshareable', reason: decision.reason })
    const entry: CacheEntry = { ...stale.entry, headers: [...merged].map(([n, v]) => [n.toLowerCase(), v]) }
    return serveEntry(state.request, entry, context.options.now(), status, undefined, stream)
  }
  status.note(stale.tier, { fwd: 'stale', fwdStatus: 304, stored: true })
  status.outcome = 'revalidated'
  context.stats.record('revalidated')
  if (stream) {
    publish?.({ kind: 'unshareable', reason: 'streamed' })
    const toClient = streamToEdge(context, state, decision.entry, stream, undefined)
    return serveEntry(state.request, decision.entry, context.options.now(), status, undefined, toClient)
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
  const headers = new Headers(response.headers)
  const vary = headers.get('vary')
  if (vary?.split(',').some((v) => v.trim() === '*')) return response
  const present = new Set((vary ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean))
  const missing = names.filter((name) => !present.has(name))
  if (missing.length === 0) return response
  headers.set('vary', [vary, ...missing].filter(Boolean).join(', '))
  return { status: response.status, headers }
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
