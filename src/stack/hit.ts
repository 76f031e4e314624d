/**
 * @module Serving a fresh hit: the `Cache-Status` entry with the staleness bound in force, the counters, and
 * promotion of the entry into the cheaper tiers above the one it came from, with its remaining lifetime
 * (design.md §2: "a hit fills the tiers before it ... with the remaining lifetime, never a fresh one").
 */
import { EntryFlag } from '../entry.ts'
import type { StatusEntry } from '../observe/lookup-status.ts'
import { edgeHitServable, serveEdgeHit, serveEntry } from '../serve.ts'
import type { EdgeEntry } from '../tiers/edge-form.ts'
import { materialize, quietly, storageTtlOf, ttlSeconds, type Found, type RequestState, type StackContext } from './context.ts'

export function hit(context: StackContext, state: RequestState, found: Found, now: number): Response | Promise<Response> {
  if (found.lazy) return edgeHit(context, state, found, found.lazy, now)
  const { status } = state
  status.note(found.tier, { hit: true, ttl: ttlSeconds(found.entry, now), ...bound(context, state, now) })
  status.servedBy = found.tier
  status.outcome = 'hit'
  context.stats.record(`${found.tier}_hits`)
  promote(context, state, found)
  return serveEntry(state.request, found.entry, now, status, undefined, found.stream, found.bodyLength)
}

/**
 * A fresh hit on a small edge entry whose body is still unread: served straight from the stored response
 * unless the key has earned a memory copy (src/stack/edge-heat.ts) or the request needs the bytes (a range,
 * a 304), in which case the body is read and the hit is served and promoted as any other.
 */
function edgeHit(context: StackContext, state: RequestState, found: Found, stored: Response, now: number): Response | Promise<Response> {
  const entry = found.entry as EdgeEntry
  const memory = context.tiers.memory
  const promote = memory !== undefined && memory.admitsBytes(found.bodyLength ?? 0) && context.edgeHeat.hot(found.key, now)
  if (promote || !entry.reserved || !edgeHitServable(state.request, entry, stored)) return materialize(found).then((read) => hit(context, state, read, now))
  const { status } = state
  status.note(found.tier, { hit: true, ttl: ttlSeconds(entry, now), ...bound(context, state, now) })
  status.servedBy = found.tier
  status.outcome = 'hit'
  context.stats.record(`${found.tier}_hits`)
  return serveEdgeHit(state.request, entry, stored, now, status)
}

/** The staleness bound in force for a hit: δ, and how old this isolate's purge-log view is. */
export function bound(context: StackContext, state: RequestState, now: number): Pick<StatusEntry, 'delta' | 'viewAge'> {
  if (!context.coherence.shared) return {}
  const age = context.coherence.viewAge(now)
  return { delta: state.deltaMs, viewAge: Number.isFinite(age) ? Math.max(0, Math.round(age)) : undefined }
}

/** Copies an entry found in a lower tier into the tiers above it, with its remaining lifetime. */
export function promote(context: StackContext, state: RequestState, found: Found): void {
  // A memory hit has no tier above it (and is the hottest path: nothing to compute).
  if (found.tier === 'memory') return
  // A streamed (large) edge entry is too big for memory, and the edge is where it already lives.
  if (found.stream) return
  const now = context.options.now()
  const ttl = storageTtlOf(context, found.entry, now)
  if (ttl <= 0) return
  const { memory, edge } = context.tiers
  if (memory) {
    if (memory.set(found.key, found.entry, ttl, now)) state.status.note('memory', { stored: true })
  }
  if (found.tier === 'redis' && edge && !(found.entry.flags & EntryFlag.PerUser) && edge.fits(found.entry) && !edge.unavailableReason(now)) {
    state.status.note('edge', { stored: true })
    state.ctx.waitUntil(quietly(edge.set(found.key, found.entry, ttl)))
    if (state.varyIndex) state.ctx.waitUntil(quietly(edge.set(state.primaryKey, state.varyIndex, state.varyIndex.expiresAt - now)))
  }
}
