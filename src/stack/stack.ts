/**
 * @module The tier stack: answers a GET/HEAD from the cheapest tier holding a usable copy and fills the
 * tiers above it (design.md §2). This file is the entry: it keys the request, makes sure the isolate's
 * purge-log view is within δ, and reads memory synchronously; each further path has its own file:
 *
 * - `lookup.ts` — below memory: coalescing, edge and Redis, the cross-isolate fill lease;
 * - `hit.ts` — serving a fresh hit and promoting it; `serve-stale.ts` — stale-while-revalidate and
 *   stale-if-error; `judge.ts` — purge-log and request judgements of a found entry;
 * - `origin-fill.ts` — misses and revalidation, with `origin-call.ts` (deadline, misbehaving origins) and
 *   `store.ts` (per-tier limits, fenced fills, streaming large bodies into the edge);
 * - `head.ts`, `unsafe.ts`, `forward.ts` — HEAD, unsafe methods, and answers that bypass the cache.
 */
import type { CacheEntry } from '../entry.ts'
import type { ResolvedOptions, RouteRule } from '../options.ts'
import { LookupStatus } from '../observe/lookup-status.ts'
import type { Stats } from '../observe/stats.ts'
import { cacheKey } from '../policy/key.ts'
import { SingleFlight } from '../coherence/flight.ts'
import type { Coherence } from '../coherence/coherence.ts'
import type { PurgeFanout } from '../purge/fanout.ts'
import { requestState, ttlSeconds, type Produce, type RequestState, type StackContext, type Tiers, type WaitUntil } from './context.ts'
import { bypass, credentialMiss, relay } from './forward.ts'
import { head } from './head.ts'
import { hit } from './hit.ts'
import { HitForMiss } from './hit-for-miss.ts'
import { EdgeHeat } from './edge-heat.ts'
import { usable } from './judge.ts'
import { lookupBelowMemory, memoryGet } from './lookup.ts'
import { fetchAndMaybeStore } from './origin-fill.ts'
import { fromStale, withinSwr } from './serve-stale.ts'
import { handleUnsafe } from './unsafe.ts'
import { CohortLimit } from './cohort-limit.ts'
import type { KeyParts } from '../routes.ts'
import type { RequestObserver } from '../observe/request-observer.ts'

export type { Produce, Tiers, WaitUntil } from './context.ts'

/** Why a GET/HEAD skips the cache entirely, if it does. */
function bypassReason(route: RouteRule | undefined, parts: KeyParts | undefined): string | undefined {
  if (route?.bypass) return 'route-bypass'
  if (route?.perUser && !parts?.identity) return 'no-identity'
  return undefined
}

/** URLs whose cache key is memoised per isolate. */
const KEY_MEMO_SIZE = 10_000

export class CacheStack {
  readonly #context: StackContext
  readonly #keys = new Map<string, string>()
  readonly #cohorts = new CohortLimit()

  constructor(options: ResolvedOptions, tiers: Tiers, stats: Stats, coherence: Coherence, fanout: PurgeFanout, observer?: RequestObserver) {
    const redisBodyLimit = options.redis ? redisRawLimit(options.redis.maxEntryBytes) : 0
    this.#context = {
      options,
      tiers,
      stats,
      coherence,
      fanout,
      flights: new SingleFlight<CacheEntry>(options.now),
      refreshing: new Set(),
      hitForMiss: new HitForMiss(),
      edgeHeat: new EdgeHeat(),
      bufferLimit: Math.max(options.memory ? options.memory.maxEntryBytes : 0, redisBodyLimit),
      observer,
    }
  }

  /**
   * The cache key of a URL, memoised by the raw URL string: hot URLs repeat, and normalising the
   * query on every hit was a measurable share of a memory hit's cost (bench report, "Hot path").
   */
  #urlKey(raw: string): string {
    let key = this.#keys.get(raw)
    if (key === undefined) {
      key = cacheKey(new URL(raw), { ignoreQueryParams: this.#context.options.ignoreQueryParams })
      if (this.#keys.size >= KEY_MEMO_SIZE) this.#keys.clear()
      this.#keys.set(raw, key)
    }
    return key
  }

  /**
   * Answers a GET or HEAD. `parts` are what a per-user or per-cohort route adds to the key. A fresh
   * memory hit is answered synchronously, with no promise on the hottest path; everything else
   * continues asynchronously.
   */
  handle(request: Request, route: RouteRule | undefined, parts: KeyParts | undefined, ctx: WaitUntil, produce: Produce): Response | Promise<Response> {
    const context = this.#context
    const reason = bypassReason(route, parts)
    if (reason) return bypass(context, request, produce, new LookupStatus(context.stats.latency), reason)
    const urlKey = this.#urlKey(request.url)
    if (route?.cohort && parts?.cohort && !this.#cohorts.admit(urlKey, parts.cohort, route.cohort.maxCohorts ?? 32)) {
      return bypass(context, request, produce, new LookupStatus(context.stats.latency), 'cohort-limit')
    }
    const primaryKey = urlKey + (parts?.identity ? `|u=${parts.identity}` : '') + (parts?.cohortInKey ? `|c=${parts.cohort}` : '')
    const state = requestState(context, request, route, primaryKey, parts, ctx, produce)
    const observer = context.observer
    const startedAt = observer?.timed ? performance.now() : 0
    // Bounded staleness: this isolate's view of the purge log must be younger than δ before any hit.
    const answer = context.coherence.isStale(state.deltaMs) ? this.#lookupAfterCoherence(state) : this.#lookup(state)
    if (!observer) return answer
    // Per-user and cookie-cohort keys are no one's hot set (and would name a user): counted, not tracked.
    const seen = { request, key: primaryKey === urlKey ? urlKey : '', status: state.status, ctx, startedAt }
    if (answer instanceof Promise) {
      return answer.then((response) => {
        observer.observe(seen, response)
        return response
      })
    }
    observer.observe(seen, answer)
    return answer
  }

  /** Methods the cache neither stores nor invalidates for (OPTIONS, TRACE, CONNECT): relayed as they are. */
  handlePassThrough(request: Request, produce: Produce): Promise<Response> {
    const status = new LookupStatus(this.#context.stats.latency)
    status.note('bypass', { fwd: 'method' })
    return relay(this.#context, request, produce, status)
  }

  /** Unsafe methods: pass through, then invalidate (RFC 9111 §4.4; see unsafe.ts). */
  handleUnsafe(request: Request, ctx: WaitUntil, produce: Produce): Promise<Response> {
    return handleUnsafe(this.#context, request, ctx, produce)
  }

  async #lookupAfterCoherence(state: RequestState): Promise<Response> {
    // With the request's waitUntil, a trial read after a breaker cool-down runs in the background: while
    // Redis stays hung no hit waits for it.
    await state.status.timed('coherence', () => this.#context.coherence.ensureFresh(state.deltaMs, state.ctx))
    return this.#lookup(state)
  }

  /** Memory first (synchronous), then the shared tiers, once this isolate's purge-log view is within δ. */
  #lookup(state: RequestState): Response | Promise<Response> {
    const context = this.#context
    const { status } = state
    state.purgeSeq = context.coherence.fillSeq
    const now = context.options.now()
    if (context.hitForMiss.active(state.primaryKey, state.kind, now)) {
      status.note('memory', { fwd: 'miss', detail: 'hit-for-miss' })
      return fetchAndMaybeStore(context, state, undefined)
    }
    if (state.request.method === 'HEAD') return head(context, state)

    // L1: memory, synchronous and free.
    const fromMemory = memoryGet(context, state, now)
    if (!fromMemory) return lookupBelowMemory(context, state, undefined)
    const verdict = usable(state, fromMemory.entry, now)
    if (verdict === 'fresh') return hit(context, state, fromMemory, now)
    if (verdict === 'refuse') return credentialMiss(context, state)
    status.note('memory', { fwd: 'stale', ttl: ttlSeconds(fromMemory.entry, now) })
    // Within stale-while-revalidate the stale copy is served at once (no waiting on a flight) and
    // one background refresh per key per isolate brings the new one.
    if (withinSwr(state, fromMemory.entry, now)) return fromStale(context, state, fromMemory)
    return lookupBelowMemory(context, state, fromMemory)
  }
}

/**
 * The largest body whose Redis value is sure to fit `maxEntryBytes`: the value is base64 (4/3) of the
 * binary envelope, whose metadata is bounded separately (RedisTier.fits); this is the body's share.
 */
const redisRawLimit = (maxEntryBytes: number): number => Math.floor((maxEntryBytes * 3) / 4)
