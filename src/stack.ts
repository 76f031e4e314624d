/**
 * @module The tier stack: answers a GET/HEAD from the cheapest tier holding a usable copy and fills
 * the tiers above it; coalesces concurrent misses (in the isolate, then across isolates with a Redis
 * lease); serves stale within `stale-while-revalidate` / `stale-if-error`; revalidates with
 * conditional requests; and falls through every tier failure to the next tier (design.md §2, §6).
 */
import { EntryFlag, currentAge, entryHeader, remainingFreshness, storageTtl, type CacheEntry, type Stored, type VaryIndex } from './entry.ts'
import { entryFromResponse } from './entry-from-response.ts'
import { OriginError } from './errors.ts'
import type { ResolvedOptions, RouteRule } from './options.ts'
import { LookupStatus, type StatusEntry } from './observe/lookup-status.ts'
import type { Stats } from './observe/stats.ts'
import { originFailureResponse, withoutHopByHop } from './origin.ts'
import { parseRequestDirectives, type Directives } from './policy/cache-control.ts'
import { mergeNotModified, notModifiedApplies, revalidationHeaders } from './policy/conditional.ts'
import { requestAllowsCached } from './policy/freshness.ts'
import { invalidationTargets } from './policy/invalidation.ts'
import { cacheKey, normaliseUrl } from './policy/key.ts'
import { parseVary, variantKeySuffix } from './policy/vary.ts'
import { decorate, serveEntry } from './serve.ts'
import { SingleFlight, type FlightResult } from './coherence/flight.ts'
import type { Coherence } from './coherence/coherence.ts'
import type { PurgeFanout } from './purge/fanout.ts'
import type { MemoryTier } from './tiers/memory.ts'
import type { EdgeTier } from './tiers/edge.ts'
import type { RedisTier } from './tiers/redis.ts'
import type { SharedTier, TierName } from './tiers/tier.ts'

/** How the stack reaches the origin (or, in the middleware, the route handler). */
export type Produce = (request: Request) => Promise<Response>

/** `ctx.waitUntil`, so fills run after the response is sent. */
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void
}

/** The tiers a stack uses; absent ones are off. */
export interface Tiers {
  memory?: MemoryTier
  edge?: EdgeTier
  redis?: RedisTier
}

/** How long a hit-for-miss marker sends later requests straight to the origin (Varnish uses 120 s). */
const HIT_FOR_MISS_MS = 30_000
/** Extra storage time for entries with validators, so they can be revalidated with a 304. */
const KEEP_FOR_REVALIDATION_MS = 24 * 3600_000
/** Redis poll interval while another isolate holds the fill lease. */
const LEASE_POLL_MS = 25
/** URLs whose cache key is memoised per isolate. */
const KEY_MEMO_SIZE = 10_000
/** Variants remembered per URL for purge-by-URL. */
const MAX_VARIANTS = 64

type Found = { entry: CacheEntry; tier: TierName; key: string }

interface RequestState {
  request: Request
  route: RouteRule | undefined
  status: LookupStatus
  primaryKey: string
  /** The key of the variant this request selects, once known. */
  key: string
  varyIndex: VaryIndex | undefined
  credentials: boolean
  perUser: boolean
  requestDirectives: Directives
  /** Unique per fetch attempt, so only its owner releases the Redis lease; made on first use ({@link leaseTokenOf}). */
  leaseToken: string
  /** Redis lookup said: we hold the fill lease (`leader`) or another fetcher does (`follower`). */
  redisRole: 'leader' | 'follower' | 'uncacheable' | undefined
  /** Purge-log position a fill of this request starts from (fenced fills, design.md §5). */
  purgeSeq: number
  /** Staleness bound δ for this request's route, in ms. */
  deltaMs: number
  ctx: WaitUntil
  produce: Produce
}

/** The request's lease token: a memory hit never needs one, so it is not made until Redis is asked. */
const leaseTokenOf = (state: RequestState): string => (state.leaseToken ||= crypto.randomUUID())

const isStale = (entry: CacheEntry, now: number): boolean => remainingFreshness(entry, now) <= 0

export class CacheStack {
  readonly #options: ResolvedOptions
  readonly #tiers: Tiers
  readonly #stats: Stats
  readonly #flights: SingleFlight<CacheEntry>
  readonly #refreshing = new Set<string>()
  readonly #hitForMiss = new Map<string, number>()
  readonly #keys = new Map<string, string>()
  readonly #coherence: Coherence
  readonly #fanout: PurgeFanout

  constructor(options: ResolvedOptions, tiers: Tiers, stats: Stats, coherence: Coherence, fanout: PurgeFanout) {
    this.#options = options
    this.#tiers = tiers
    this.#stats = stats
    this.#coherence = coherence
    this.#fanout = fanout
    this.#flights = new SingleFlight(options.now)
  }

  /**
   * The cache key of a URL, memoised by the raw URL string: hot URLs repeat, and normalising the
   * query on every hit was a measurable share of a memory hit's cost (bench report, "Hot path").
   */
  #urlKey(raw: string): string {
    let key = this.#keys.get(raw)
    if (key === undefined) {
      key = cacheKey(new URL(raw), { ignoreQueryParams: this.#options.ignoreQueryParams })
      if (this.#keys.size >= KEY_MEMO_SIZE) this.#keys.clear()
      this.#keys.set(raw, key)
    }
    return key
  }


  /**
   * Answers a GET or HEAD. `identity` is the per-user identity hash when the route opts in. A fresh
   * memory hit is answered synchronously, with no promise on the hottest path; everything else
   * continues asynchronously.
   */
  handle(request: Request, route: RouteRule | undefined, identity: string | undefined, ctx: WaitUntil, produce: Produce): Response | Promise<Response> {
    const status = new LookupStatus()
    if (route?.bypass || request.headers.has('range') || (route?.perUser && !identity)) {
      const reason = route?.bypass ? 'route-bypass' : request.headers.has('range') ? 'range' : 'no-identity'
      return this.#bypass(request, produce, status, reason)
    }
    const primaryKey = this.#urlKey(request.url) + (identity ? `|u=${identity}` : '')
    const requestDirectives = parseRequestDirectives(request.headers)
    const state: RequestState = {
      request,
      route,
      status,
      primaryKey,
      key: primaryKey,
      varyIndex: undefined,
      credentials: !identity && (request.headers.has('authorization') || request.headers.has('cookie')),
      perUser: Boolean(identity),
      requestDirectives,
      leaseToken: '',
      redisRole: undefined,
      purgeSeq: this.#coherence.fillSeq,
      deltaMs: route?.deltaMs ?? this.#options.coherenceDeltaMs,
      ctx,
      produce,
    }
    // Bounded staleness: this isolate's view of the purge log must be younger than δ before any hit.
    if (this.#coherence.isStale(state.deltaMs)) return this.#lookupAfterCoherence(state)
    return this.#lookup(state)
  }

  async #lookupAfterCoherence(state: RequestState): Promise<Response> {
    await state.status.timed('coherence', () => this.#coherence.ensureFresh(state.deltaMs))
    return this.#lookup(state)
  }

  /** Memory first (synchronous), then the shared tiers, once this isolate's purge-log view is within δ. */
  #lookup(state: RequestState): Response | Promise<Response> {
    const { request, status, primaryKey } = state
    state.purgeSeq = this.#coherence.fillSeq
    const now = this.#options.now()
    if ((this.#hitForMiss.get(primaryKey) ?? 0) > now) {
      status.note('memory', { fwd: 'miss', detail: 'hit-for-miss' })
      return this.#fetchAndMaybeStore(state, undefined)
    }
    if (request.method === 'HEAD') return this.#head(state)

    // L1: memory, synchronous and free.
    let stale: Found | undefined
    const fromMemory = this.#memoryGet(state, now)
    if (fromMemory) {
      const usable = this.#usable(state, fromMemory.entry, now)
      if (usable === 'fresh') return this.#hit(state, fromMemory, now)
      if (usable === 'refuse') return this.#credentialMiss(state)
      stale = fromMemory
      status.note('memory', { fwd: 'stale', ttl: ttlSeconds(fromMemory.entry, now) })
      // Within stale-while-revalidate the stale copy is served at once (no waiting on a flight) and
      // one background refresh per key per isolate brings the new one.
      if (this.#withinSwr(state, fromMemory.entry, now)) return this.#fromStale(state, fromMemory)
    }
    return this.#lookupBelowMemory(state, stale)
  }

  async #lookupBelowMemory(state: RequestState, stale: Found | undefined): Promise<Response> {
    const { request, status } = state
    // Coalesce in the isolate before touching shared tiers: 200 concurrent requests cost one lookup.
    const joined = this.#flights.join(state.key, this.#options.coalesceWaitMs + this.#options.originTimeoutMs)
    if (joined.role === 'waiter') {
      const result = await status.timed('collapsed', () => joined.wait(this.#options.coalesceWaitMs))
      if (result !== 'timeout' && result.kind === 'value') {
        const shared = await this.#reusable(state, result.value)
        if (shared) {
          state.status.note('memory', { hit: true, collapsed: true, ttl: ttlSeconds(shared, this.#options.now()) })
          this.#stats.record('collapsed')
          status.servedBy = 'memory'
          status.outcome = 'hit'
          return serveEntry(request, shared, this.#options.now(), status)
        }
      }
      status.note('memory', { fwd: 'miss', detail: result === 'timeout' ? 'collapse-timeout' : 'collapse-unshareable' })
      return this.#fetchAndMaybeStore(state, stale)
    }

    let published = false
    const publish = (result: FlightResult<CacheEntry>) => {
      if (!published) joined.publish(result)
      published = true
    }
    try {
      const response = await this.#lookupShared(state, stale, publish)
      return response
    } finally {
      publish({ kind: 'unshareable', reason: 'leader-failed' })
    }
  }

  /**
   * Unsafe methods: pass through, then invalidate the target and same-origin `Location` /
   * `Content-Location` (RFC 9111 §4.4) through the purge path, so every tier and every isolate
   * (within δ) forgets them. The invalidation is committed before the response is returned, so the
   * writer's next read cannot race it.
   */
  async handleUnsafe(request: Request, ctx: WaitUntil, produce: Produce): Promise<Response> {
    const status = new LookupStatus()
    status.note('bypass', { fwd: 'method' })
    let response: Response
    try {
      response = await status.timed('origin', () => produce(request))
    } catch (error) {
      if (error instanceof OriginError) return originFailureResponse(error)
      throw error
    }
    const targets = invalidationTargets(new URL(request.url), request.method, response.status, response.headers)
    if (targets.length > 0) {
      const urls = [...new Set(targets.map((u) => cacheKey(u, { ignoreQueryParams: this.#options.ignoreQueryParams })))]
      try {
        await status.timed('invalidate', () =>
          this.#fanout.purge({ urls, tags: [], prefixes: [], all: false, soft: false }, `unsafe-${crypto.randomUUID()}`, ctx as never)
        )
        this.#stats.record('invalidated', urls.length)
      } catch (error) {
        console.warn(`[tiercache] invalidation after ${request.method} failed: ${(error as Error).message}`)
        status.note('bypass', { detail: 'invalidation-failed' })
      }
    }
    const headers = withoutHopByHop(response.headers)
    decorate(headers, status)
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  }

  // ---------------------------------------------------------------------------------------------

  /** Reads memory at the primary key and judges what it finds at `now`, the time the caller judges freshness at. */
  #memoryGet(state: RequestState, now: number): Found | undefined {
    const memory = this.#tiers.memory
    if (!memory) return undefined
    let value = memory.get(state.primaryKey, now)
    if (value?.kind === 'vary') {
      state.varyIndex = value
      return undefined
    }
    if (value?.kind === 'entry') {
      const admitted = this.#admit(state, { entry: value, tier: 'memory', key: state.primaryKey }, now)
      if (admitted) return admitted
    }
    state.status.note('memory', { fwd: 'miss' })
    return undefined
  }

  /**
   * Judges a found entry against the purge log: purged entries are dropped from their tier and
   * count as a miss; soft-purged ones become stale (served under stale-while-revalidate while
   * refreshed); ones older than this isolate's log window must be revalidated before use.
   * A soft-purged entry's lifetime is cut to its age at `now`, so freshness must be judged at `now` or
   * later: judged at an earlier time it would look fresh again.
   */
  #admit(state: RequestState, found: Found, now = this.#options.now()): Found | undefined {
    const verdict = this.#coherence.judge(found.entry, state.primaryKey)
    if (verdict === 'valid') return found
    if (verdict === 'purged') {
      state.status.note(found.tier, { detail: 'purged' })
      if (found.tier === 'memory') this.#tiers.memory?.delete(found.key)
      else if (found.tier === 'edge') state.ctx.waitUntil(this.#quiet(this.#tiers.edge?.delete([found.key]) ?? Promise.resolve()))
      return undefined
    }
    const age = currentAge(found.entry, now)
    const entry: CacheEntry =
      verdict === 'stale'
        ? { ...found.entry, lifetimeMs: Math.min(found.entry.lifetimeMs, age) }
        : { ...found.entry, flags: found.entry.flags | EntryFlag.NoCache }
    return { ...found, entry }
  }

  /** Resolves the variant key once the URL's vary index is known, then reads memory at it. */
  async #selectVariant(state: RequestState, index: VaryIndex): Promise<void> {
    state.varyIndex = index
    state.key = `${state.primaryKey}|v=${await variantKeySuffix(index.varyOn, state.request.headers)}`
  }

  /** Walks edge then Redis (memory already missed or was stale), then the origin. */
  async #lookupShared(state: RequestState, stale: Found | undefined, publish: (r: FlightResult<CacheEntry>) => void): Promise<Response> {
    const { status } = state
    const now = () => this.#options.now()
    if (state.varyIndex) {
      await this.#selectVariant(state, state.varyIndex)
      const stored = this.#tiers.memory?.get(state.key, now())
      const variant = stored?.kind === 'entry' ? this.#admit(state, { entry: stored, tier: 'memory', key: state.key }) : undefined
      if (variant) {
        const usable = this.#usable(state, variant.entry, now())
        if (usable === 'fresh') {
          publish({ kind: 'value', value: variant.entry })
          return this.#hit(state, variant, now())
        }
        if (usable === 'refuse') return this.#credentialMiss(state)
        stale = variant
      } else {
        status.note('memory', { fwd: 'vary-miss' })
      }
    }

    for (const tier of [this.#tiers.edge, this.#tiers.redis]) {
      if (!tier) continue
      const found = await this.#readTier(state, tier)
      if (!found) continue
      const usable = this.#usable(state, found.entry, now())
      if (usable === 'refuse') return this.#credentialMiss(state)
      if (usable === 'fresh') {
        publish({ kind: 'value', value: found.entry })
        return this.#hit(state, found, now())
      }
      status.note(found.tier, { fwd: 'stale', ttl: ttlSeconds(found.entry, now()) })
      if (!stale || found.entry.bornAt > stale.entry.bornAt) stale = found
    }

    if (stale) return this.#fromStale(state, stale, publish)

    if (state.redisRole === 'follower') {
      const filled = await this.#awaitOtherFill(state)
      if (filled) {
        // The other fetcher's fill answers this request only if this request could have been served it.
        const usable = this.#usable(state, filled.entry, now())
        if (usable === 'refuse') return this.#credentialMiss(state)
        if (usable === 'fresh') {
          publish({ kind: 'value', value: filled.entry })
          return this.#hit(state, filled, now())
        }
      }
    }
    return this.#fetchAndMaybeStore(state, undefined, publish)
  }

  /** Reads one shared tier at the request's key (following a vary index); errors fall through. */
  async #readTier(state: RequestState, tier: SharedTier): Promise<Found | undefined> {
    const { status } = state
    const reason = tier.unavailableReason(this.#options.now())
    if (reason) {
      status.note(tier.name, { fwd: 'miss', detail: reason })
      return undefined
    }
    try {
      let value = await status.timed(tier.name, () => this.#tierGet(state, tier, state.key))
      if (value?.kind === 'vary') {
        await this.#selectVariant(state, value)
        this.#tiers.memory?.set(state.primaryKey, value, value.expiresAt - this.#options.now(), this.#options.now())
        value = await status.timed(tier.name, () => this.#tierGet(state, tier, state.key))
        if (value?.kind !== 'entry') {
          status.note(tier.name, { fwd: 'vary-miss' })
          return undefined
        }
      }
      if (value?.kind === 'entry') {
        const admitted = this.#admit(state, { entry: value, tier: tier.name, key: state.key })
        if (admitted) return admitted
      }
      status.note(tier.name, { fwd: 'miss' })
    } catch (error) {
      status.note(tier.name, { fwd: 'miss', detail: `${tier.name}-error` })
      this.#stats.record(`${tier.name}_errors`)
      console.warn(`[tiercache] ${(error as Error).message}`)
    }
    return undefined
  }

  async #tierGet(state: RequestState, tier: SharedTier, key: string): Promise<Stored | undefined> {
    const redis = this.#tiers.redis
    if (tier !== redis || !redis) return tier.get(key)
    const result = await redis.lookup(key, leaseTokenOf(state), this.#options.leaseMs)
    this.#stats.record('redis_requests')
    state.purgeSeq = Math.max(state.purgeSeq, result.seq)
    if (result.kind === 'value') return result.value
    state.redisRole = result.kind
    return undefined
  }

  /** Polls Redis while another isolate's fill holds the lease; gives up at the coalesce deadline. */
  async #awaitOtherFill(state: RequestState): Promise<Found | undefined> {
    const redis = this.#tiers.redis
    if (!redis) return undefined
    const deadline = performance.now() + this.#options.coalesceWaitMs
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS))
      try {
        const result = await state.status.timed('redis', () => redis.lookup(state.key, leaseTokenOf(state), this.#options.leaseMs))
        this.#stats.record('redis_requests')
        state.purgeSeq = Math.max(state.purgeSeq, result.seq)
        if (result.kind === 'value' && result.value.kind === 'entry') {
          state.status.note('redis', { collapsed: true })
          return this.#admit(state, { entry: result.value, tier: 'redis', key: state.key })
        }
        if (result.kind !== 'follower') {
          state.redisRole = result.kind === 'value' ? undefined : result.kind
          return undefined
        }
      } catch {
        return undefined
      }
    }
    state.status.note('redis', { detail: 'lease-wait-timeout' })
    return undefined
  }

  /** Is `entry` usable for this request: fresh, stale (needs work) or refused (credentials rule)? */
  #usable(state: RequestState, entry: CacheEntry, now: number): 'fresh' | 'stale' | 'refuse' {
    // RFC 9111 §3.5: a response stored without explicit permission never answers a request with
    // credentials (tiercache extends this from Authorization to Cookie).
    if (state.credentials && !(entry.flags & EntryFlag.SharedWithCredentials)) return 'refuse'
    if (entry.flags & EntryFlag.NoCache) return 'stale'
    const allowed = requestAllowsCached(state.requestDirectives, { currentAgeMs: currentAge(entry, now), lifetimeMs: entry.lifetimeMs })
    return allowed.ok && !isStale(entry, now) ? 'fresh' : 'stale'
  }

  /** A flight's value reused by a waiter: only if it is what this request could have been served. */
  async #reusable(state: RequestState, entry: CacheEntry): Promise<CacheEntry | undefined> {
    if (this.#usable(state, entry, this.#options.now()) !== 'fresh') return undefined
    const vary = parseVary(entryHeader(entry, 'vary') ?? null)
    if (vary === '*') return undefined
    if (vary.length > 0) {
      const mine = `${state.primaryKey}|v=${await variantKeySuffix(vary, state.request.headers)}`
      const theirs = this.#tiers.memory?.get(mine, this.#options.now())
      return theirs?.kind === 'entry' ? theirs : undefined
    }
    return entry
  }

  #hit(state: RequestState, found: Found, now: number): Response {
    const { status } = state
    state.status.note(found.tier, { hit: true, ttl: ttlSeconds(found.entry, now), ...this.#bound(state, now) })
    status.servedBy = found.tier
    status.outcome = 'hit'
    this.#stats.record(`${found.tier}_hits`)
    this.#promote(state, found)
    return serveEntry(state.request, found.entry, now, status)
  }

  /** The staleness bound in force for a hit: δ, and how old this isolate's purge-log view is. */
  #bound(state: RequestState, now: number): Pick<StatusEntry, 'delta' | 'viewAge'> {
    if (!this.#coherence.shared) return {}
    const age = this.#coherence.viewAge(now)
    return { delta: state.deltaMs, viewAge: Number.isFinite(age) ? Math.max(0, Math.round(age)) : undefined }
  }


  /** Copies an entry found in a lower tier into the tiers above it, with its remaining lifetime. */
  #promote(state: RequestState, found: Found): void {
    const now = this.#options.now()
    const ttl = storageTtl(found.entry, now, KEEP_FOR_REVALIDATION_MS)
    if (ttl <= 0) return
    const { memory, edge } = this.#tiers
    if (found.tier !== 'memory' && memory) {
      if (memory.set(found.key, found.entry, ttl, now)) state.status.note('memory', { stored: true })
    }
    if (found.tier === 'redis' && edge && !(found.entry.flags & EntryFlag.PerUser) && !edge.unavailableReason(now)) {
      state.status.note('edge', { stored: true })
      state.ctx.waitUntil(this.#quiet(edge.set(found.key, found.entry, ttl)))
      if (state.varyIndex) state.ctx.waitUntil(this.#quiet(edge.set(state.primaryKey, state.varyIndex, state.varyIndex.expiresAt - now)))
    }
  }

  /** May this stale entry be served while it is refreshed (RFC 5861 §3; forbidden by §4.2.4 rules)? */
  #withinSwr(state: RequestState, entry: CacheEntry, now: number): boolean {
    if (entry.flags & (EntryFlag.MustRevalidate | EntryFlag.NoCache)) return false
    if (state.requestDirectives.has('no-cache') || state.requestDirectives.has('max-age')) return false
    return -remainingFreshness(entry, now) < entry.swrMs
  }

  /** Serves or refreshes from a stale copy (RFC 5861, RFC 9111 §4.2.4 and §4.3). */
  async #fromStale(state: RequestState, stale: Found, publish?: (r: FlightResult<CacheEntry>) => void): Promise<Response> {
    const now = this.#options.now()
    const { entry } = stale
    if (this.#withinSwr(state, entry, now)) {
      publish?.({ kind: 'value', value: entry })
      state.status.note(stale.tier, { hit: true, ttl: ttlSeconds(entry, now), detail: 'stale-while-revalidate' })
      state.status.servedBy = stale.tier
      state.status.outcome = 'stale'
      this.#stats.record('stale_served')
      if (!this.#refreshing.has(stale.key)) {
        this.#refreshing.add(stale.key)
        const background = { ...state, status: new LookupStatus(), ctx: state.ctx }
        state.ctx.waitUntil(
          this.#fetchAndMaybeStore(background, stale).then(
            (r) => r.body?.cancel(),
            () => {}
          ).finally(() => this.#refreshing.delete(stale.key))
        )
      }
      return serveEntry(state.request, entry, now, state.status)
    }
    return this.#fetchAndMaybeStore(state, stale, publish)
  }

  /** Requests with credentials that may not use the stored copy go to the origin, unshared. */
  async #credentialMiss(state: RequestState): Promise<Response> {
    state.status.note('memory', { fwd: 'request', detail: 'credentials' })
    return this.#forward(state)
  }

  /** Forwards the request to the origin unshared: no store, no stale; failures become 502/504. */
  async #forward(state: RequestState): Promise<Response> {
    try {
      const response = await state.status.timed('origin', () => state.produce(this.#originRequest(state.request, undefined)))
      this.#stats.record('origin_fetches')
      return this.#passThrough(response, state.status)
    } catch (error) {
      if (!(error instanceof OriginError)) throw error
      this.#stats.record('origin_errors')
      return originFailureResponse(error)
    }
  }

  async #head(state: RequestState): Promise<Response> {
    const now = this.#options.now()
    const found = this.#memoryGet(state, now)
    if (found && this.#usable(state, found.entry, now) === 'fresh') return this.#hit(state, found, now)
    for (const tier of [this.#tiers.edge]) {
      if (!tier) continue
      const hit = await this.#readTier(state, tier)
      // Judged after the read, no earlier than the time the read admitted the entry at.
      const later = this.#options.now()
      if (hit && this.#usable(state, hit.entry, later) === 'fresh') return this.#hit(state, hit, later)
    }
    state.status.note('memory', { fwd: 'method', detail: 'head-miss' })
    return this.#forward(state)
  }

  async #bypass(request: Request, produce: Produce, status: LookupStatus, reason: string): Promise<Response> {
    status.note('bypass', { fwd: 'bypass', detail: reason })
    status.outcome = 'bypass'
    this.#stats.record('bypass')
    try {
      return this.#passThrough(await status.timed('origin', () => produce(request)), status)
    } catch (error) {
      if (error instanceof OriginError) return originFailureResponse(error)
      throw error
    }
  }

  #passThrough(response: Response, status: LookupStatus): Response {
    const headers = withoutHopByHop(response.headers)
    decorate(headers, status)
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  }

  /** The origin request: client conditionals removed (we fill with a full response), ours added. */
  #originRequest(request: Request, stale: CacheEntry | undefined): Request {
    // Fetch exactly what the key names: a parameter left out of the key (utm_*) must not reach an origin
    // that could reflect it into a body stored under the clean key (cache poisoning).
    const url = normaliseUrl(new URL(request.url), { ignoreQueryParams: this.#options.ignoreQueryParams })
    const headers = new Headers(request.headers)
    for (const name of ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range']) headers.delete(name)
    if (stale) {
      revalidationHeaders({ etag: entryHeader(stale, 'etag'), lastModified: entryHeader(stale, 'last-modified') }).forEach((value, name) => headers.set(name, value))
    }
    return new Request(url.toString(), { method: request.method === 'HEAD' ? 'HEAD' : 'GET', headers, redirect: 'manual' })
  }

  /**
   * Goes to the origin (conditionally when a stale copy has validators), stores what may be stored,
   * and answers. Origin failure: stale within `stale-if-error`, else 502/504; neither stored.
   */
  async #fetchAndMaybeStore(state: RequestState, stale: Found | undefined, publish?: (r: FlightResult<CacheEntry>) => void): Promise<Response> {
    const { status } = state
    if (state.requestDirectives.has('only-if-cached')) {
      // RFC 9111 §5.2.1.7: "respond with either a stored response or a 504 (Gateway Timeout)".
      publish?.({ kind: 'unshareable', reason: 'only-if-cached' })
      status.note('memory', { detail: 'only-if-cached' })
      const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' })
      decorate(headers, status)
      return new Response(JSON.stringify({ error: 'not in cache (only-if-cached)' }), { status: 504, headers })
    }
    const requestTime = this.#options.now()
    let response: Response
    try {
      response = await status.timed('origin', () => state.produce(this.#originRequest(state.request, stale?.entry)))
      this.#stats.record('origin_fetches')
    } catch (error) {
      this.#stats.record('origin_errors')
      if (!(error instanceof OriginError)) throw error
      publish?.({ kind: 'unshareable', reason: 'origin-error' })
      return this.#staleIfError(state, stale, error.kind === 'timeout' ? 504 : 502) ?? originFailureResponse(error)
    }
    const responseTime = this.#options.now()
    if (response.status >= 500 && stale) {
      const served = this.#staleIfError(state, stale, response.status)
      if (served) {
        publish?.({ kind: 'unshareable', reason: 'origin-error' })
        await response.body?.cancel()
        return served
      }
    }

    if (response.status === 304 && stale && !notModifiedApplies(new Headers(stale.entry.headers), response.headers)) {
      // RFC 9111 §4.3.4: a 304 whose validator matches no stored response updates nothing; fetch in full.
      await response.body?.cancel()
      return this.#fetchAndMaybeStore(state, undefined, publish)
    }
    if (response.status === 304 && stale) {
      const merged = mergeNotModified(new Headers(stale.entry.headers), response.headers)
      const refreshed = await entryFromResponse({
        ...this.#fillContext(state, requestTime, responseTime),
        response: new Response(stale.entry.body, { status: stale.entry.status, headers: merged }),
      })
      await response.body?.cancel()
      if (refreshed.ok) {
        status.note(stale.tier, { fwd: 'stale', fwdStatus: 304, stored: true })
        status.outcome = 'revalidated'
        status.servedBy = stale.tier
        this.#stats.record('revalidated')
        publish?.({ kind: 'value', value: refreshed.entry })
        this.#store(state, refreshed.entry)
        return serveEntry(state.request, refreshed.entry, this.#options.now(), status)
      }
      publish?.({ kind: 'unshareable', reason: refreshed.reason })
      return serveEntry(state.request, { ...stale.entry, headers: [...merged].map(([n, v]) => [n.toLowerCase(), v]) }, this.#options.now(), status)
    }

    const decision = await entryFromResponse({ ...this.#fillContext(state, requestTime, responseTime), response: response.clone() })
    if (!decision.ok) {
      publish?.({ kind: 'unshareable', reason: decision.reason })
      status.note('memory', { fwd: status.entries.get('memory')?.fwd ?? 'miss', detail: `uncacheable-${decision.reason}` })
      this.#markUncacheable(state)
      status.servedBy = 'origin'
      return this.#passThrough(response, status)
    }
    await response.body?.cancel()
    publish?.({ kind: 'value', value: decision.entry })
    status.servedBy = 'origin'
    status.outcome = 'miss'
    this.#store(state, decision.entry)
    const own = response.headers.getSetCookie().map((value): [string, string] => ['set-cookie', value])
    return serveEntry(state.request, decision.entry, this.#options.now(), status, own)
  }

  #fillContext(state: RequestState, requestTime: number, responseTime: number) {
    const maxBody = Math.max(
      this.#options.memory ? this.#options.memory.maxEntryBytes : 0,
      this.#options.edge ? this.#options.edge.maxEntryBytes : 0,
      this.#options.redis ? this.#options.redis.maxEntryBytes : 0
    )
    return {
      request: state.request,
      requestTime,
      responseTime,
      routeTtl: state.route?.ttl,
      routeTags: state.route?.tags ?? [],
      perUser: state.perUser,
      heuristic: this.#options.heuristic,
      maxBodyBytes: maxBody,
      purgeSeq: state.purgeSeq,
    }
  }

  #staleIfError(state: RequestState, stale: Found | undefined, upstreamStatus: number): Response | undefined {
    if (!stale) return undefined
    const now = this.#options.now()
    const overdue = -remainingFreshness(stale.entry, now)
    if (stale.entry.flags & EntryFlag.MustRevalidate || overdue >= stale.entry.sieMs) return undefined
    state.status.note(stale.tier, { hit: true, ttl: ttlSeconds(stale.entry, now), fwdStatus: upstreamStatus, detail: 'stale-if-error' })
    state.status.servedBy = stale.tier
    state.status.outcome = 'stale'
    this.#stats.record('stale_if_error')
    return serveEntry(state.request, stale.entry, now, state.status)
  }

  #markUncacheable(state: RequestState): void {
    const now = this.#options.now()
    this.#hitForMiss.set(state.primaryKey, now + HIT_FOR_MISS_MS)
    if (this.#hitForMiss.size > 10_000) this.#hitForMiss.clear()
    const redis = this.#tiers.redis
    if (redis && state.redisRole === 'leader') {
      state.ctx.waitUntil(this.#quiet(redis.markUncacheable(state.key, leaseTokenOf(state), HIT_FOR_MISS_MS)))
    }
    this.#stats.record('uncacheable')
  }

  /** Writes a new entry (and the URL's vary index) to every tier that takes it. */
  #store(state: RequestState, entry: CacheEntry): void {
    const now = this.#options.now()
    const ttl = storageTtl(entry, now, KEEP_FOR_REVALIDATION_MS)
    if (ttl <= 0) return
    const vary = parseVary(entryHeader(entry, 'vary') ?? null)
    const writes: Array<{ key: string; value: Stored; ttlMs: number }> = []
    const storeAt = async (): Promise<void> => {
      let key = state.primaryKey
      if (vary !== '*' && vary.length > 0) {
        const suffix = await variantKeySuffix(vary, state.request.headers)
        key = `${state.primaryKey}|v=${suffix}`
        const previous = state.varyIndex && state.varyIndex.varyOn.join() === vary.join() ? state.varyIndex.variants : []
        const index: VaryIndex = {
          kind: 'vary',
          varyOn: vary,
          variants: [suffix, ...previous.filter((s) => s !== suffix)].slice(0, MAX_VARIANTS),
          expiresAt: Math.max(now + ttl, state.varyIndex?.expiresAt ?? 0),
        }
        writes.push({ key: state.primaryKey, value: index, ttlMs: index.expiresAt - now })
      }
      writes.push({ key, value: entry, ttlMs: ttl })
      const { memory, edge, redis } = this.#tiers
      // Fenced fill: a purge this isolate already knows of, newer than the fill's start, stops it here.
      const fenced = () => this.#coherence.judge(entry, state.primaryKey) === 'purged'
      if (fenced()) {
        state.status.note('memory', { detail: 'fill-fenced' })
        if (redis && state.redisRole === 'leader') state.ctx.waitUntil(this.#quiet(redis.markUncacheable(state.key, leaseTokenOf(state), 1)))
        return
      }
      for (const w of writes) {
        if (memory?.set(w.key, w.value, w.ttlMs, now) && w.value.kind === 'entry') state.status.note('memory', { stored: true })
      }
      const toEdge = edge && !state.perUser && !edge.unavailableReason(now) ? edge : undefined
      const writeEdge = () => (toEdge && !fenced() ? Promise.all(writes.map((w) => toEdge.set(w.key, w.value, w.ttlMs))) : undefined)
      if (toEdge) state.status.note('edge', { stored: true })
      if (redis && !redis.unavailableReason(now)) {
        state.status.note('redis', { stored: true })
        const fence = { purgeSeq: entry.purgeSeq, primaryKey: state.primaryKey, tags: entry.tags }
        const leaseToken = state.redisRole === 'leader' ? leaseTokenOf(state) : ''
        state.ctx.waitUntil(
          this.#quiet(
            redis.fill(writes, state.key, leaseToken, fence).then(async ({ stored, bytes }) => {
              this.#stats.record('redis_requests')
              if (!stored) {
                // Redis refused: a purge covering this entry landed while the origin fetch ran.
                for (const w of writes) memory?.delete(w.key)
                this.#stats.record('fills_fenced')
                return
              }
              this.#stats.record('redis_bytes_written', bytes)
              this.#stats.record('body_bytes_written', entry.body.byteLength)
              await writeEdge()
            }, async (error) => {
              // Redis unreachable: the edge copy is still fenced by this isolate's purge-log view.
              await writeEdge()
              throw error
            })
          )
        )
      } else {
        state.ctx.waitUntil(this.#quiet(writeEdge() ?? Promise.resolve()))
      }
    }
    // Vary keys need a digest (async); the memory write must happen before the response is served so
    // the next request in this isolate hits, so callers await nothing but the work is started now.
    state.ctx.waitUntil(this.#quiet(storeAt()))
  }

  async #quiet(promise: Promise<unknown>): Promise<void> {
    try {
      await promise
    } catch (error) {
      console.warn(`[tiercache] background write failed: ${(error as Error).message}`)
    }
  }
}

const ttlSeconds = (entry: CacheEntry, now: number): number => Math.round(remainingFreshness(entry, now) / 1000)
