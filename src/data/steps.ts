/**
 * @module The steps of a data lookup over an engine's tiers: read memory, read the shared tiers (edge, then
 * Redis with its fill lease), wait for another isolate's fill, run the loader with its timeouts, store the
 * result (fenced), refresh in the background, invalidate. `cache.ts` composes them into the public methods.
 *
 * The rules are the HTTP path's (design.md §2, §5): a hit fills the tiers above with the remaining lifetime;
 * every hit is judged against the isolate's purge-log view; a fill starts from a log position and is refused
 * (in Redis by the fill script, in memory and at the edge by the view) when a purge covering it landed since.
 */
import type { Engine } from '../engine.ts'
import { remainingFreshness, storageTtl, type CacheEntry } from '../entry.ts'
import type { PurgeScope } from '../coherence/purge-log.ts'
import type { Verdict } from '../coherence/purge-record.ts'
import { SingleFlight } from '../coherence/flight.ts'
import { TierError } from '../errors.ts'
import { LoaderTimeoutError } from './errors.ts'
import { kindOf, loadMsOf, toEntry } from './envelope.ts'
import type { ResolvedEntryOptions } from './options.ts'
import { decodeValue, encodeValue } from './value.ts'
import { LEASE_POLL_MS } from '../tiers/redis.ts'


/** `ctx.waitUntil`: work that outlives the call (fills, background refreshes). */
export interface Background {
  waitUntil(promise: Promise<unknown>): void
}

/** What a finished flight leaves its waiters: the entry, or the loader's error (plain data, src/coherence/flight.ts). */
export type Outcome = { ok: true; entry: CacheEntry; loaded: boolean } | { ok: false; error: unknown }

/** Per engine: the data API's single-flight table and the keys being refreshed in the background. */
export interface DataRuntime {
  flights: SingleFlight<Outcome>
  refreshing: Set<string>
}

const runtimes = new WeakMap<Engine, DataRuntime>()

/** The data runtime of `engine`, made on first use (it lives as long as the engine: the isolate). */
export function runtimeOf(engine: Engine): DataRuntime {
  let runtime = runtimes.get(engine)
  if (!runtime) {
    runtime = { flights: new SingleFlight<Outcome>(engine.options.now), refreshing: new Set() }
    runtimes.set(engine, runtime)
  }
  return runtime
}

/** One call: what it is about and what it did (for `Server-Timing`). */
export interface Call {
  engine: Engine
  background: Background
  /** The key as the user gave it (for error messages). */
  key: string
  /** The tier key (src/data/key.ts). */
  tierKey: string
  options: ResolvedEntryOptions
  /** The tags stored with a new value: the call's and its namespaces'. */
  tags: string[]
  /** Short outcome for `Server-Timing`: `memory-hit`, `redis-hit`, `loaded`, `stale`, ... */
  outcome: string
}

/** How an entry may be used now. */
export type Usability = 'fresh' | 'swr' | 'sie' | 'none'

/**
 * How `entry` may be used at `now` given the purge log's verdict: fresh; within its stale-while-revalidate
 * window (returned while one background refresh runs); only within its stale-if-error window (returned if
 * the loader fails); or not at all. A soft-purged entry is stale from the purge on.
 */
export function usability(entry: CacheEntry, verdict: Verdict, now: number): Usability {
  if (verdict === 'purged' || verdict === 'unknown') return 'none'
  const remaining = remainingFreshness(entry, now)
  if (remaining > 0 && verdict === 'valid') return 'fresh'
  const over = Math.max(0, -remaining)
  if (entry.swrMs > 0 && over < entry.swrMs) return 'swr'
  if (entry.sieMs > 0 && over < entry.sieMs) return 'sie'
  return 'none'
}

/** Whether `entry` may stand in for a failed or slow loader at `now`. */
export const servesOnError = (call: Call, entry: CacheEntry | undefined, now: number): entry is CacheEntry => {
  if (!entry || call.engine.coherence.judge(entry, call.tierKey) === 'purged') return false
  const over = Math.max(0, -remainingFreshness(entry, now))
  return entry.sieMs > 0 && over < entry.sieMs
}

/** The value an entry holds (a new copy each time). */
export const valueOf = (entry: CacheEntry): unknown => decodeValue(kindOf(entry) ?? 'none', entry.body)

/** A data entry read from a tier, with the purge log's verdict; anything else there counts as absent. */
export interface Found {
  entry: CacheEntry
  verdict: Verdict
}

const asFound = (call: Call, stored: unknown): Found | undefined => {
  const entry = stored as CacheEntry | undefined
  if (!entry || entry.kind !== 'entry' || kindOf(entry) === undefined) return undefined
  return { entry, verdict: call.engine.coherence.judge(entry, call.tierKey) }
}

/** Makes the purge-log view younger than δ (one Redis read per isolate per δ, shared). */
export async function ensureFresh(engine: Engine, background: Background): Promise<void> {
  const { coherence, options } = engine
  if (coherence.isStale(options.coherenceDeltaMs)) await coherence.ensureFresh(options.coherenceDeltaMs, background)
}

/** The memory tier's entry at the call's key; a purged one is dropped. */
export function readMemory(call: Call, now: number): Found | undefined {
  const memory = call.engine.tiers.memory
  if (!memory) return undefined
  const found = asFound(call, memory.get(call.tierKey, now))
  if (found?.verdict === 'purged') {
    memory.delete(call.tierKey)
    return undefined
  }
  return found
}

/** Fills memory with `entry` for its remaining storage time (a hit from a slower tier, or a load). */
function fillMemory(call: Call, entry: CacheEntry, now: number): void {
  const memory = call.engine.tiers.memory
  if (!memory) return
  const ttlMs = storageTtl(entry, now, 0)
  if (ttlMs > 0) memory.set(call.tierKey, entry, ttlMs, now)
}

/** Fills the edge with `entry` in the background, for its remaining storage time. */
function fillEdge(call: Call, entry: CacheEntry, now: number): void {
  const { edge } = call.engine.tiers
  if (!edge || edge.unavailableReason(now)) return
  const ttlMs = storageTtl(entry, now, 0)
  call.background.waitUntil(edge.set(call.tierKey, entry, ttlMs).catch(() => call.engine.stats.record('edge_errors')))
}

/** Reads the edge; a failing edge counts as a miss. */
async function readEdge(call: Call, now: number): Promise<Found | undefined> {
  const { edge } = call.engine.tiers
  if (!edge || edge.unavailableReason(now)) return undefined
  try {
    return asFound(call, await edge.get(call.tierKey))
  } catch {
    call.engine.stats.record('edge_errors')
    return undefined
  }
}

/** What the shared tiers gave: a fresh entry, or a stale candidate and whether this call holds the fill lease. */
export interface SharedRead {
  fresh?: CacheEntry
  stale?: CacheEntry
  /** The fill lease's token when this call holds it. */
  leaseToken?: string
  /** Another isolate's loader holds the lease (and we gave up waiting, or have a stale value to return). */
  follower: boolean
  /** The purge-log position a load starting now is fenced from. */
  seq: number
}

/** The newer of two stale candidates. */
const newer = (a: CacheEntry | undefined, b: CacheEntry | undefined): CacheEntry | undefined =>
  !a ? b : !b ? a : b.bornAt > a.bornAt ? b : a

/**
 * Edge, then Redis. A Redis miss takes the fill lease in the same round trip; when another isolate holds
 * it, waits (polling) for its fill unless a value within stale-while-revalidate can be returned meanwhile.
 */
export async function readShared(call: Call, stale: CacheEntry | undefined): Promise<SharedRead> {
  const { engine } = call
  const { stats, coherence, tiers, options } = engine
  const read: SharedRead = { stale, follower: false, seq: coherence.fillSeq }
  const edgeHit = await readEdge(call, options.now())
  if (edgeHit) {
    const use = usability(edgeHit.entry, edgeHit.verdict, options.now())
    if (use === 'fresh') {
      stats.record('data_edge_hits')
      fillMemory(call, edgeHit.entry, options.now())
      call.outcome = 'edge-hit'
      return { ...read, fresh: edgeHit.entry }
    }
    if (use !== 'none') read.stale = newer(read.stale, edgeHit.entry)
  }
  const redis = tiers.redis
  if (!redis || redis.unavailableReason(options.now())) return read
  const token = crypto.randomUUID()
  const deadline = performance.now() + options.coalesceWaitMs
  try {
    for (let polls = 0; ; polls++) {
      const result = await redis.lookup(call.tierKey, token, options.leaseMs)
      stats.record('redis_requests', result.requests)
      read.seq = Math.max(read.seq, result.seq)
      if (result.kind === 'value') {
        const found = asFound(call, result.value)
        const now = options.now()
        const use = found ? usability(found.entry, found.verdict, now) : 'none'
        if (found && use === 'fresh') {
          stats.record(polls > 0 ? 'collapsed' : 'data_redis_hits')
          fillMemory(call, found.entry, now)
          fillEdge(call, found.entry, now)
          call.outcome = polls > 0 ? 'collapsed' : 'redis-hit'
          return { ...read, fresh: found.entry, follower: false }
        }
        if (found && use !== 'none') read.stale = newer(read.stale, found.entry)
        // A value is there (stale or purged): no lease was taken; the caller loads (or refreshes) without one.
        return { ...read, follower: false }
      }
      if (result.kind === 'leader') return { ...read, leaseToken: token, follower: false }
      if (result.kind === 'uncacheable') return { ...read, follower: false }
      // Another isolate is loading: return a stale value at once if allowed, else wait for its fill.
      read.follower = true
      if (read.stale && usability(read.stale, 'valid', options.now()) === 'swr') return read
      if (performance.now() >= deadline) return read
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS))
    }
  } catch (error) {
    stats.record('redis_errors')
    console.warn(`[tiercache] data API: ${(error as Error).message}`)
    return read
  }
}

/** How a load is fenced: the fill lease it holds (if any) and the purge-log position it starts from. */
export interface LoadFence {
  leaseToken?: string
  seq: number
}

/**
 * Runs the loader and stores its result. Returns the new entry; or `stale` when the loader throws or passes
 * the soft timeout and `stale` is within its stale-if-error window. A loader still running at a timeout
 * keeps running in the background and fills the cache when it finishes.
 * @throws the loader's error, a {@link LoaderTimeoutError}, or a `TypeError` for a value that cannot be stored
 */
export async function load(call: Call, loader: () => unknown, stale: CacheEntry | undefined, fence: LoadFence, inBackground = false): Promise<CacheEntry> {
  const { engine, options: o } = call
  const { stats } = engine
  stats.record('data_loads')
  const started = performance.now()
  const seq = Math.max(fence.seq, engine.coherence.fillSeq)
  const filled = (async () => {
    const value = await loader()
    const loadMs = performance.now() - started
    const encoded = encodeValue(value)
    const negative = encoded.kind === 'none'
    const entry = toEntry({
      ...encoded,
      lifetimeMs: negative ? o.negativeMs : o.lifetimeMs,
      swrMs: negative ? 0 : o.swrMs,
      sieMs: negative ? 0 : o.sieMs,
      tags: call.tags,
      purgeSeq: seq,
      now: engine.options.now(),
      loadMs,
    })
    store(call, entry, fence.leaseToken)
    return entry
  })()
  // A failed load gives the lease back, so another isolate's waiters stop waiting for it.
  const released = filled.catch((error: unknown) => {
    if (fence.leaseToken && engine.tiers.redis) {
      call.background.waitUntil(engine.tiers.redis.releaseLease(call.tierKey, fence.leaseToken).catch(() => {}))
    }
    throw error
  })
  if (inBackground) return released
  const timers: Array<ReturnType<typeof setTimeout>> = []
  const after = (ms: number | undefined, what: 'soft' | 'hard') =>
    ms === undefined ? new Promise<never>(() => {}) : new Promise<'soft' | 'hard'>((resolve) => timers.push(setTimeout(() => resolve(what), ms)))
  const soft = servesOnError(call, stale, engine.options.now()) ? o.timeoutMs : undefined
  const result = await Promise.race([
    released.then(
      (entry) => ({ entry }),
      (error: unknown) => ({ error })
    ),
    after(soft, 'soft'),
    after(o.hardTimeoutMs, 'hard'),
  ])
  for (const timer of timers) clearTimeout(timer)
  if (typeof result === 'object' && 'entry' in result) {
    call.outcome = 'loaded'
    return result.entry
  }
  const now = engine.options.now()
  if (typeof result === 'object') {
    stats.record('data_load_errors')
    // A value that cannot be stored is the caller's bug, never hidden behind a stale value.
    if (!(result.error instanceof TypeError) && servesOnError(call, stale, now)) return serveStale(call, stale, 'stale-if-error')
    throw result.error
  }
  // Timed out: the loader keeps running and fills the cache when it finishes.
  call.background.waitUntil(released.catch(() => {}))
  stats.record('data_load_timeouts')
  if (servesOnError(call, stale, now)) return serveStale(call, stale, result === 'soft' ? 'stale-timeout' : 'stale-hard-timeout')
  throw new LoaderTimeoutError(call.key, o.hardTimeoutMs!)
}

/** Returns a stale entry instead of a load, counted. */
export function serveStale(call: Call, stale: CacheEntry, why: string): CacheEntry {
  call.engine.stats.record('data_stale_served')
  call.outcome = why
  return stale
}

/**
 * Stores a loaded (or `set`) entry: memory at once unless the isolate already knows a purge covering it;
 * then, in the background, Redis through the fenced fill (which also releases the lease) and the edge only
 * once Redis took it. A fenced fill takes the entry back out of memory.
 */
export function store(call: Call, entry: CacheEntry, leaseToken: string | undefined): Promise<void> {
  const { engine } = call
  const { tiers, stats, coherence, options } = engine
  const now = options.now()
  const ttlMs = storageTtl(entry, now, 0)
  if (ttlMs <= 0) {
    if (leaseToken && tiers.redis) call.background.waitUntil(tiers.redis.releaseLease(call.tierKey, leaseToken).catch(() => {}))
    return Promise.resolve()
  }
  const purged = () => coherence.judge(entry, call.tierKey) === 'purged'
  if (!purged()) tiers.memory?.set(call.tierKey, entry, ttlMs, now)
  const write = (async () => {
    const redis = tiers.redis
    if (redis && !redis.unavailableReason(now)) {
      const outcome = await redis.fill([{ key: call.tierKey, value: entry, ttlMs }], call.tierKey, leaseToken ?? '', {
        purgeSeq: entry.purgeSeq,
        primaryKey: call.tierKey,
        tags: entry.tags,
      })
      stats.record('redis_requests')
      stats.record('redis_bytes_written', outcome.bytes)
      if (outcome.outcome === 'fenced') {
        stats.record('fills_fenced')
        if (tiers.memory?.get(call.tierKey, options.now()) === entry) tiers.memory.delete(call.tierKey)
        return
      }
    }
    if (!purged()) fillEdge(call, entry, options.now())
  })().catch((error: unknown) => {
    stats.record('redis_errors')
    console.warn(`[tiercache] data API fill: ${(error as Error).message}`)
  })
  call.background.waitUntil(write)
  return write
}

/**
 * Refreshes the call's key in the background, once: one refresh per isolate (the refreshing set), one across
 * isolates (the Redis fill lease, taken here unless the caller already holds it). Errors are counted, never
 * thrown: the caller already has its value.
 */
export function refreshInBackground(call: Call, loader: () => unknown, leaseToken: string | undefined, current?: CacheEntry): void {
  const { engine } = call
  const runtime = runtimeOf(engine)
  if (runtime.refreshing.has(call.tierKey)) return
  runtime.refreshing.add(call.tierKey)
  const seq = engine.coherence.fillSeq
  const work = (async () => {
    let token = leaseToken
    const redis = engine.tiers.redis
    if (!token && redis && !redis.unavailableReason(engine.options.now())) {
      // An early refresh of a value still fresh here: another isolate may have refreshed it already. Taking
      // its copy costs one read, where loading again would cost the loader.
      if (current && (await adoptNewer(call, current))) return
      token = crypto.randomUUID()
      const taken = await redis.tryLease(call.tierKey, token, engine.options.leaseMs)
      engine.stats.record('redis_requests')
      // Another isolate is refreshing (or loading) this key.
      if (!taken) return
    }
    engine.stats.record('data_refreshes')
    await load(call, loader, undefined, { leaseToken: token, seq }, true)
  })()
    .catch(() => engine.stats.record('data_load_errors'))
    .finally(() => runtime.refreshing.delete(call.tierKey))
  call.background.waitUntil(work)
}

/** Fills memory with Redis's copy when it is fresher than `current`; true if it did. */
async function adoptNewer(call: Call, current: CacheEntry): Promise<boolean> {
  const { engine } = call
  const found = asFound(call, await engine.tiers.redis!.get(call.tierKey))
  engine.stats.record('redis_requests')
  const now = engine.options.now()
  if (!found || found.entry.bornAt <= current.bornAt || usability(found.entry, found.verdict, now) !== 'fresh') return false
  fillMemory(call, found.entry, now)
  return true
}

/**
 * XFetch (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015):
 * refresh early when `now − δ·β·ln(U) ≥ expiry`, U uniform in (0, 1], δ the loader's last duration. The
 * chance grows as expiry nears and with δ, so the one refresh of a hot key very likely starts before it
 * expires, and no request waits for the loader.
 */
export function shouldRefreshEarly(entry: CacheEntry, beta: number, now: number, random = Math.random()): boolean {
  if (beta <= 0) return false
  const delta = loadMsOf(entry)
  if (delta <= 0) return false
  const expiry = entry.bornAt + entry.lifetimeMs
  return now - delta * beta * Math.log(random) >= expiry
}

/**
 * Records a purge of `scope` (a `set`, `delete`, `deleteByTag` or namespace clear) and returns its log
 * position: Redis first (the purge log record, and the entries its URLs and tags index deleted), then this
 * isolate's view and memory, then this data centre's edge. Every other isolate refuses the old values within
 * δ. Cloudflare's zone purge is not called (its budget is 5 calls a minute on Free plans): edge copies in
 * other data centres are refused through the log, and expire on their own.
 * @throws {TierError} when Redis is configured but could not record it (this isolate's memory is still evicted)
 */
export async function invalidate(engine: Engine, background: Background, scope: PurgeScope): Promise<number> {
  const { purgeLog, coherence, tiers, stats, fanout, options } = engine
  let seq: number
  let deleted: string[] = []
  if (purgeLog) {
    try {
      const committed = await purgeLog.commit(scope, `data-${crypto.randomUUID()}`)
      stats.record('redis_requests')
      if (committed.duplicate) throw new Error('purge id reused')
      seq = committed.seq
      deleted = committed.deletedKeys
      coherence.apply([{ seq, t: committed.t, ...scope }])
    } catch (error) {
      await fanout.evictLocally(scope)
      throw new TierError('redis', `the change was not recorded in the purge log, so other isolates may keep the old value until it expires: ${(error as Error).message}`, { cause: error })
    }
  } else {
    // No shared log: this isolate's view is all there is (as in src/purge/fanout.ts).
    seq = coherence.fillSeq + 1
    coherence.apply([{ seq, t: options.now(), ...scope }])
  }
  coherence.committed(seq)
  const edge = tiers.edge
  const keys = [...new Set([...scope.urls, ...deleted])]
  if (edge && keys.length > 0 && !edge.unavailableReason(options.now())) {
    background.waitUntil(edge.delete(keys).catch(() => stats.record('edge_errors')))
  }
  return seq
}
