/**
 * @module Serving a stale copy: within `stale-while-revalidate` at once, with one background refresh per key
 * per isolate (RFC 5861 §3); within `stale-if-error` when the origin fails (RFC 5861 §4); never when
 * `must-revalidate`, `proxy-revalidate`, `s-maxage` or `no-cache` forbid it (RFC 9111 §4.2.4).
 */
import { EntryFlag, remainingFreshness, type CacheEntry } from '../entry.ts'
import { LookupStatus } from '../observe/lookup-status.ts'
import { serveEntry } from '../serve.ts'
import type { FlightResult } from '../coherence/flight.ts'
import { ttlSeconds, type Found, type RequestState, type StackContext } from './context.ts'
import { fetchAndMaybeStore } from './origin-fill.ts'

/** May this stale entry be served while it is refreshed (RFC 5861 §3; forbidden by §4.2.4 rules)? */
export function withinSwr(state: RequestState, entry: CacheEntry, now: number): boolean {
  if (entry.flags & (EntryFlag.MustRevalidate | EntryFlag.NoCache)) return false
  if (state.requestDirectives.has('no-cache') || state.requestDirectives.has('max-age')) return false
  return -remainingFreshness(entry, now) < entry.swrMs
}

/** Serves or refreshes from a stale copy (RFC 5861, RFC 9111 §4.2.4 and §4.3). */
export async function fromStale(
  context: StackContext,
  state: RequestState,
  stale: Found,
  publish?: (r: FlightResult<CacheEntry>) => void
): Promise<Response> {
  const now = context.options.now()
  const { entry } = stale
  if (!withinSwr(state, entry, now)) return fetchAndMaybeStore(context, state, stale, publish)
  // A streamed body can be read once: waiters fetch their own copy.
  publish?.(stale.streamed ? { kind: 'unshareable', reason: 'streamed' } : { kind: 'value', value: entry })
  state.status.note(stale.tier, { hit: true, ttl: ttlSeconds(entry, now), detail: 'stale-while-revalidate' })
  state.status.servedBy = stale.tier
  state.status.outcome = 'stale'
  context.stats.record('stale_served')
  if (!context.refreshing.has(stale.key)) {
    context.refreshing.add(stale.key)
    // The refresh revalidates with the stale copy's validators; its stream goes to this client, so a 304
    // for a streamed entry reads the edge again (origin-fill.ts).
    // A refresh fetches the whole representation, whatever range the client asked for.
    const background: RequestState = { ...state, request: withoutRange(state.request), status: new LookupStatus(context.stats.latency) }
    const source: Found = { ...stale, stream: undefined }
    state.ctx.waitUntil(
      fetchAndMaybeStore(context, background, source)
        .then(
          (response) => response.body?.cancel(),
          () => {}
        )
        .finally(() => context.refreshing.delete(stale.key))
    )
  }
  return serveEntry(state.request, entry, now, state.status, undefined, stale.stream, stale.bodyLength)
}

/** `request` without `Range` / `If-Range`, for a refresh that must fetch the whole representation. */
function withoutRange(request: Request): Request {
  if (!request.headers.has('range')) return request
  const headers = new Headers(request.headers)
  headers.delete('range')
  headers.delete('if-range')
  return new Request(request.url, { method: request.method, headers })
}

/**
 * The stale copy, if it may answer this upstream failure: within the response's `stale-if-error` (RFC 5861
 * §4) for any failure, or within the configured grace when the origin could not be reached at all
 * (`disconnected`: RFC 9111 §4.2.4 lets a disconnected cache serve stale). Never when the response forbids
 * serving stale (must-revalidate, proxy-revalidate, s-maxage; no-cache entries never count as stale copies).
 */
export function staleIfError(
  context: StackContext,
  state: RequestState,
  stale: Found | undefined,
  upstreamStatus: number,
  disconnected = false
): Response | undefined {
  if (!stale) return undefined
  const now = context.options.now()
  const overdue = -remainingFreshness(stale.entry, now)
  const forbidden = stale.entry.flags & (EntryFlag.MustRevalidate | EntryFlag.NoCache)
  const window = Math.max(stale.entry.sieMs, disconnected ? context.options.graceSeconds * 1000 : 0)
  if (forbidden || overdue >= window) return undefined
  const detail = overdue < stale.entry.sieMs ? 'stale-if-error' : 'stale-on-disconnect'
  state.status.note(stale.tier, { hit: true, ttl: ttlSeconds(stale.entry, now), fwdStatus: upstreamStatus, detail })
  state.status.servedBy = stale.tier
  state.status.outcome = 'stale'
  context.stats.record('stale_if_error')
  return serveEntry(state.request, stale.entry, now, state.status, undefined, stale.stream, stale.bodyLength)
}
