/**
 * @module The read path below memory: coalesce concurrent misses in the isolate, then walk the edge and
 * Redis (following a URL's vary index to the variant the request selects), wait briefly for another
 * isolate's fill when Redis says one holds the lease, and go to the origin only when nothing usable is
 * found. Every tier failure falls through to the next tier (design.md §6).
 */
import { entryHeader, type CacheEntry, type Stored, type VaryIndex } from '../entry.ts'
import { parseVary, variantKeySuffix } from '../policy/vary.ts'
import { serveEntry } from '../serve.ts'
import type { FlightResult } from '../coherence/flight.ts'
import { LEASE_POLL_MS, type RedisLookup, type RedisTier } from '../tiers/redis.ts'
import type { SharedTier } from '../tiers/tier.ts'
import { discardStream, leaseTokenOf, materialize, ttlSeconds, type Found, type RequestState, type StackContext } from './context.ts'
import { credentialMiss } from './forward.ts'
import { hit } from './hit.ts'
import { admit, answersRequest, usable } from './judge.ts'
import { fetchAndMaybeStore } from './origin-fill.ts'
import { fromStale } from './serve-stale.ts'


/** Reads memory at the primary key and judges what it finds at `now`, the time the caller judges freshness at. */
export function memoryGet(context: StackContext, state: RequestState, now: number): Found | undefined {
  const memory = context.tiers.memory
  if (!memory) return undefined
  const value = memory.get(state.primaryKey, now)
  if (value?.kind === 'vary') {
    state.varyIndex = value
    return undefined
  }
  if (value?.kind === 'entry') {
    const admitted = admit(context, state, { entry: value, tier: 'memory', key: state.primaryKey }, now)
    if (admitted) return admitted
  }
  state.status.note('memory', { fwd: 'miss' })
  return undefined
}

/** Below memory: one lookup per key per isolate, shared with concurrent requests through a flight. */
export async function lookupBelowMemory(context: StackContext, state: RequestState, stale: Found | undefined): Promise<Response> {
  const { request, status } = state
  const { options } = context
  // Coalesce in the isolate before touching shared tiers: 200 concurrent requests cost one lookup.
  const joined = context.flights.join(state.key, options.coalesceWaitMs + options.originTimeoutMs)
  if (joined.role === 'waiter') {
    const result = await status.timed('collapsed', () => joined.wait(options.coalesceWaitMs))
    if (result !== 'timeout' && result.kind === 'value') {
      const shared = await reusable(context, state, result.value)
      if (shared) {
        status.note('memory', { hit: true, collapsed: true, ttl: ttlSeconds(shared, options.now()) })
        context.stats.record('collapsed')
        status.servedBy = 'memory'
        status.outcome = 'hit'
        return serveEntry(request, shared, options.now(), status)
      }
    }
    // The leader's answer was a streamed (large) body, which can be read once: read the edge ourselves.
    if (result !== 'timeout' && result.kind === 'unshareable' && result.reason === 'streamed') {
      return lookupShared(context, state, stale, () => {})
    }
    status.note('memory', { fwd: 'miss', detail: result === 'timeout' ? 'collapse-timeout' : 'collapse-unshareable' })
    return fetchAndMaybeStore(context, state, stale)
  }

  let published = false
  const publish = (result: FlightResult<CacheEntry>) => {
    if (!published) joined.publish(result)
    published = true
  }
  try {
    return await lookupShared(context, state, stale, publish)
  } finally {
    publish({ kind: 'unshareable', reason: 'leader-failed' })
  }
}

/** Resolves the variant key once the URL's vary index is known. */
async function selectVariant(state: RequestState, index: VaryIndex): Promise<void> {
  state.varyIndex = index
  state.key = `${state.primaryKey}|v=${await variantKeySuffix(index.varyOn, state.request.headers)}`
}

/** Walks edge then Redis (memory already missed or was stale), then the origin. */
async function lookupShared(
  context: StackContext,
  state: RequestState,
  stale: Found | undefined,
  publish: (r: FlightResult<CacheEntry>) => void
): Promise<Response> {
  const { status } = state
  const now = () => context.options.now()
  if (state.varyIndex) {
    await selectVariant(state, state.varyIndex)
    const stored = context.tiers.memory?.get(state.key, now())
    const variant = stored?.kind === 'entry' ? admit(context, state, { entry: stored, tier: 'memory', key: state.key }) : undefined
    if (variant) {
      const verdict = usable(state, variant.entry, now())
      if (verdict === 'fresh') {
        publish({ kind: 'value', value: variant.entry })
        return hit(context, state, variant, now())
      }
      if (verdict === 'refuse') return credentialMiss(context, state)
      stale = variant
    } else {
      status.note('memory', { fwd: 'vary-miss' })
    }
  }

  for (const tier of [context.tiers.edge, context.tiers.redis]) {
    if (!tier) continue
    const found = await readTier(context, state, tier)
    if (!found) continue
    const verdict = usable(state, found.entry, now())
    if (verdict === 'refuse') {
      discardStream(found)
      return credentialMiss(context, state)
    }
    if (verdict === 'fresh') {
      discardStream(stale)
      // A body the edge still holds unread (or streams) can be read once: waiters read the edge themselves.
      publish(found.streamed || found.lazy ? { kind: 'unshareable', reason: 'streamed' } : { kind: 'value', value: found.entry })
      return hit(context, state, found, now())
    }
    status.note(found.tier, { fwd: 'stale', ttl: ttlSeconds(found.entry, now()) })
    if (!stale || found.entry.bornAt > stale.entry.bornAt) {
      discardStream(stale)
      stale = await materialize(found)
    } else {
      discardStream(found)
    }
  }

  if (stale) return fromStale(context, state, stale, publish)

  if (state.redisRole === 'follower') {
    const filled = await awaitOtherFill(context, state)
    if (filled) {
      // The other fetcher's fill answers this request only if this request could have been served it.
      const verdict = usable(state, filled.entry, now())
      if (verdict === 'refuse') return credentialMiss(context, state)
      if (verdict === 'fresh') {
        publish({ kind: 'value', value: filled.entry })
        return hit(context, state, filled, now())
      }
    }
  }
  return fetchAndMaybeStore(context, state, undefined, publish)
}

/** Reads one shared tier at the request's key (following a vary index); errors fall through. */
export async function readTier(context: StackContext, state: RequestState, tier: SharedTier): Promise<Found | undefined> {
  const { status } = state
  const reason = tier.unavailableReason(context.options.now())
  if (reason) {
    status.note(tier.name, { fwd: 'miss', detail: reason })
    return undefined
  }
  try {
    let found = await status.timed(tier.name, () => tierGet(context, state, tier))
    if (found?.value.kind === 'vary') {
      const index = found.value
      await selectVariant(state, index)
      context.tiers.memory?.set(state.primaryKey, index, index.expiresAt - context.options.now(), context.options.now())
      found = await status.timed(tier.name, () => tierGet(context, state, tier))
      if (found?.value.kind !== 'entry') {
        status.note(tier.name, { fwd: 'vary-miss' })
        return undefined
      }
    }
    if (found?.value.kind === 'entry') {
      const admitted = admit(context, state, {
        entry: found.value,
        tier: tier.name,
        key: state.key,
        streamed: Boolean(found.stream),
        stream: found.stream,
        bodyLength: found.length,
        ...(found.response ? { lazy: found.response } : {}),
      })
      if (admitted) return admitted
    }
    status.note(tier.name, { fwd: 'miss' })
  } catch (error) {
    status.note(tier.name, { fwd: 'miss', detail: `${tier.name}-error` })
    context.stats.record(`${tier.name}_errors`)
    console.warn(`[tiercache] ${(error as Error).message}`)
  }
  return undefined
}

/** A shared tier's value at the request's key: the edge may hand a large body back as a stream. */
async function tierGet(
  context: StackContext,
  state: RequestState,
  tier: SharedTier
): Promise<{ value: Stored; stream?: ReadableStream<Uint8Array>; length?: number; response?: Response } | undefined> {
  const { edge, redis } = context.tiers
  if (tier === edge && edge) return edge.readLazy(state.key)
  if (tier !== redis || !redis) {
    const value = await tier.get(state.key)
    return value && { value }
  }
  const result = await redisLookup(context, state, redis)
  if (result.kind === 'value') return { value: result.value }
  state.redisRole = result.kind
  return undefined
}

/**
 * One Redis lookup at the request's key (its value, or else its fill lease, taken or held by another
 * fetcher), counted, with the purge-log position it saw kept as the position a fill starts from.
 */
async function redisLookup(context: StackContext, state: RequestState, redis: RedisTier): Promise<RedisLookup> {
  const result = await redis.lookup(state.key, leaseTokenOf(state), context.options.leaseMs, state.kind)
  context.stats.record('redis_requests', result.requests)
  state.purgeSeq = Math.max(state.purgeSeq, result.seq)
  return result
}

/** Polls Redis while another isolate's fill holds the lease; gives up at the coalesce deadline or when Redis fails. */
async function awaitOtherFill(context: StackContext, state: RequestState): Promise<Found | undefined> {
  const redis = context.tiers.redis
  if (!redis) return undefined
  const deadline = performance.now() + context.options.coalesceWaitMs
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS))
    try {
      const result = await state.status.timed('redis', () => redisLookup(context, state, redis))
      if (result.kind === 'value' && result.value.kind === 'entry') {
        state.status.note('redis', { collapsed: true })
        return admit(context, state, { entry: result.value, tier: 'redis', key: state.key })
      }
      if (result.kind !== 'follower') {
        // The other fetcher gave up (its lease was released): this request took the lease, or learned the
        // answer is not shareable; either way it goes to the origin now.
        state.redisRole = result.kind === 'value' ? undefined : result.kind
        return undefined
      }
    } catch (error) {
      // Redis failed while we waited: stop waiting (the other fill cannot be seen) and say why, as readTier does.
      state.status.note('redis', { detail: 'redis-error' })
      context.stats.record('redis_errors')
      console.warn(`[tiercache] ${(error as Error).message}`)
      return undefined
    }
  }
  state.status.note('redis', { detail: 'lease-wait-timeout' })
  return undefined
}

/** A flight's value reused by a waiter: only if it is what this request could have been served. */
async function reusable(context: StackContext, state: RequestState, entry: CacheEntry): Promise<CacheEntry | undefined> {
  if (!answersRequest(entry, state.request) || usable(state, entry, context.options.now()) !== 'fresh') return undefined
  const vary = parseVary(entryHeader(entry, 'vary') ?? null)
  if (vary === '*') return undefined
  if (vary.length > 0) {
    const mine = `${state.primaryKey}|v=${await variantKeySuffix(vary, state.request.headers)}`
    const theirs = context.tiers.memory?.get(mine, context.options.now())
    return theirs?.kind === 'entry' ? theirs : undefined
  }
  return entry
}
