/**
 * @module Judging an entry a tier returned: first against the purge log (is it still valid, purged, soft
 * purged, or older than what this isolate can vouch for?), then against the request (fresh enough for it,
 * stale, or refused because the request carries credentials the entry may not answer).
 */
import { EntryFlag, currentAge, entryHeader, remainingFreshness, type CacheEntry } from '../entry.ts'
import { heldRange, rangeWithin } from '../policy/range.ts'
import { requestAllowsCached } from '../policy/freshness.ts'
import { discardStream, quietly, type Found, type RequestState, type StackContext } from './context.ts'

/**
 * Judges a found entry against the purge log: purged entries are dropped from their tier and count as a
 * miss; soft-purged ones become stale (served under stale-while-revalidate while refreshed); ones older
 * than this isolate's log window must be revalidated before use.
 * A soft-purged entry's lifetime is cut to its age at `now`, so freshness must be judged at `now` or later:
 * judged at an earlier time it would look fresh again.
 */
export function admit(context: StackContext, state: RequestState, found: Found, now = context.options.now()): Found | undefined {
  if (!answersRequest(found.entry, state.request)) {
    discardStream(found)
    return undefined
  }
  const verdict = context.coherence.judge(found.entry, state.primaryKey)
  if (verdict === 'valid') return found
  if (verdict === 'purged') {
    state.status.note(found.tier, { detail: 'purged' })
    discardStream(found)
    if (found.tier === 'memory') context.tiers.memory?.delete(found.key)
    else if (found.tier === 'edge') state.ctx.waitUntil(quietly(context.tiers.edge?.delete([found.key]) ?? Promise.resolve()))
    return undefined
  }
  const age = currentAge(found.entry, now)
  const entry: CacheEntry =
    verdict === 'stale'
      ? { ...found.entry, lifetimeMs: Math.min(found.entry.lifetimeMs, age) }
      : { ...found.entry, flags: found.entry.flags | EntryFlag.NoCache }
  return { ...found, entry }
}

/**
 * Whether a stored entry can answer this request at all: a partial (206) entry only answers a range
 * request for bytes it holds (RFC 9111 §3.3); for anything else it is as if nothing were stored.
 */
export function answersRequest(entry: CacheEntry, request: Request): boolean {
  if (entry.status !== 206) return true
  const held = heldRange(entryHeader(entry, 'content-range'))
  return request.method === 'GET' && held !== undefined && rangeWithin(request.headers.get('range'), held) !== undefined
}

/** Whether `entry` has outlived its freshness lifetime at `now` (RFC 9111 §4.2). */
export const isStale = (entry: CacheEntry, now: number): boolean => remainingFreshness(entry, now) <= 0

/** Is `entry` usable for this request: fresh, stale (needs work) or refused (credentials rule)? */
export function usable(state: RequestState, entry: CacheEntry, now: number): 'fresh' | 'stale' | 'refuse' {
  // RFC 9111 §3.5: a response stored without explicit permission never answers a request with
  // credentials (tiercache extends this from Authorization to Cookie).
  if (state.credentials && !(entry.flags & EntryFlag.SharedWithCredentials)) return 'refuse'
  if (entry.flags & EntryFlag.NoCache) return 'stale'
  const allowed = requestAllowsCached(state.requestDirectives, { currentAgeMs: currentAge(entry, now), lifetimeMs: entry.lifetimeMs })
  return allowed.ok && !isStale(entry, now) ? 'fresh' : 'stale'
}
