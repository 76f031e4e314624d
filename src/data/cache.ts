/**
 * @module The data API: `getOrSet`, `get`, `set`, `delete`, `deleteByTag`, `has`, namespaces and `wrap`,
 * over an engine's tiers (memory → edge → Redis → loader), its purge log and its counters. The steps live
 * in `steps.ts`; this file checks arguments and composes them.
 */
import type { Engine } from '../engine.ts'
import { storageTtl, type CacheEntry } from '../entry.ts'
import type { PurgeScope } from '../coherence/purge-log.ts'
import { checkKey, checkNamespace, checkTags, dataKey, namespaceTag } from './key.ts'
import { resolveEntryOptions, type DataEntryOptions, type GetOrSetOptions } from './options.ts'
import { encodeValue, type JsonValue } from './value.ts'
import { kindOf, toEntry } from './envelope.ts'
import {
  ensureFresh,
  invalidate,
  load,
  readMemory,
  readShared,
  refreshInBackground,
  runtimeOf,
  serveStale,
  servesOnError,
  shouldRefreshEarly,
  store,
  usability,
  valueOf,
  type Background,
  type Call,
  type Found,
  type Outcome,
} from './steps.ts'

/** Receives one `Server-Timing` metric per call (`dataCache(c)` appends it to the response). */
export type TimingSink = (name: string, durationMs: number, description: string) => void

/** Options of `wrap`: the entry options, and how the arguments become a key. */
export interface WrapOptions<A extends unknown[]> extends GetOrSetOptions {
  /**
   * The key for a call's arguments. @default the function's name and its arguments as JSON
   * (`loadUser("42")`); arguments must then be JSON, and the function must have a name.
   */
  key?: (...args: A) => string
}

/** Where a {@link DataCache} runs: its engine, background work, timing sink and namespace. */
export interface DataCacheSetup {
  engine: Engine
  background: Background
  timing?: TimingSink
  /** Namespace path (outermost first). @default [] */
  path?: readonly string[]
  /** Options applied under every call's own. @default {} */
  defaults?: GetOrSetOptions
}

/**
 * A view of the tiers for values. Cheap to make (one per request is fine): the tiers, single-flight table
 * and purge-log view belong to the engine, which lives as long as the isolate.
 */
export class DataCache {
  readonly #setup: DataCacheSetup
  readonly #path: readonly string[]
  readonly #namespaceTags: string[]

  constructor(setup: DataCacheSetup) {
    this.#setup = setup
    this.#path = setup.path ?? []
    this.#namespaceTags = this.#path.map((_, i) => namespaceTag(this.#path.slice(0, i + 1)))
  }

  /** The namespace path of this view (`[]` at the root). */
  get path(): readonly string[] {
    return this.#path
  }

  #call(key: string, options: GetOrSetOptions | undefined): Call {
    const resolved = resolveEntryOptions(options, this.#setup.defaults)
    return {
      engine: this.#setup.engine,
      background: this.#setup.background,
      key,
      tierKey: dataKey(this.#path, checkKey(key)),
      options: resolved,
      tags: this.#namespaceTags.length > 0 ? [...resolved.tags, ...this.#namespaceTags] : resolved.tags,
      outcome: 'miss',
    }
  }

  #report(call: Call, started: number): void {
    const ms = performance.now() - started
    // The same measurement feeds the stats' latency histograms (the dashboard's percentiles).
    this.#setup.engine.stats.latency.record('tiercache-data', ms)
    this.#setup.timing?.('tiercache-data', ms, call.outcome)
  }

  /**
   * The value at `key`, or the loader's. Tiers are read cheapest first (memory, edge, Redis); a miss runs
   * `loader` once per isolate (concurrent calls wait for it) and, with Redis, once across every isolate (the
   * fill lease); the value then fills every tier, fenced against purges that land meanwhile. A loader that
   * returns `undefined` ("not found") is cached for `negativeTtl`. `T` is inferred from the loader.
   *
   * @throws the loader's error (unless a value within `staleIfError` is returned instead), a
   *   `LoaderTimeoutError` past `hardTimeout`, a `TypeError` for bad arguments or a value JSON cannot hold
   * @example
   * const user = await cache.getOrSet(`user:${id}`, () => db.user(id), { ttl: 60, tags: ['users'] })
   */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T> {
    let call: Call
    try {
      if (typeof loader !== 'function') {
        throw new TypeError(`tiercache getOrSet(key, loader, options) needs a loader function, got ${typeof loader}: write getOrSet(key, () => load(), { ttl: 60 })`)
      }
      call = this.#call(key, options)
    } catch (error) {
      return Promise.reject(error)
    }
    const started = performance.now()
    const { engine } = call
    const { options: engineOptions, stats } = engine
    engine.stats.record('data_requests')
    let memory: Found | undefined
    let checked = false
    // A fresh memory hit with a view younger than δ (the usual case) is answered without an await.
    if (!engine.coherence.isStale(engineOptions.coherenceDeltaMs)) {
      const now = engineOptions.now()
      memory = readMemory(call, now)
      checked = true
      if (memory && usability(memory.entry, memory.verdict, now) === 'fresh') {
        stats.record(kindOf(memory.entry) === 'none' ? 'data_negative_hits' : 'data_memory_hits')
        call.outcome = 'memory-hit'
        this.#maybeRefreshEarly(call, memory.entry, loader, now)
        this.#report(call, started)
        try {
          return Promise.resolve(valueOf(memory.entry) as T)
        } catch (error) {
          return Promise.reject(error)
        }
      }
    }
    return this.#getOrSet(call, loader, checked, memory).then(
      (entry) => {
        this.#report(call, started)
        return valueOf(entry) as T
      },
      (error: unknown) => {
        this.#report(call, started)
        throw error
      }
    )
  }

  /** Past a fresh memory hit: refresh the view if due, then memory (unless already read), then the shared tiers. */
  async #getOrSet(call: Call, loader: () => unknown, checked: boolean, read: Found | undefined): Promise<CacheEntry> {
    const { engine } = call
    const { stats, options } = engine
    let memory = read
    if (!checked) {
      await ensureFresh(engine, call.background)
      memory = readMemory(call, options.now())
    }
    let now = options.now()
    let stale: CacheEntry | undefined
    if (memory) {
      const use = usability(memory.entry, memory.verdict, now)
      if (use === 'fresh') {
        stats.record(kindOf(memory.entry) === 'none' ? 'data_negative_hits' : 'data_memory_hits')
        call.outcome = 'memory-hit'
        this.#maybeRefreshEarly(call, memory.entry, loader, now)
        return memory.entry
      }
      if (use !== 'none') stale = memory.entry
    }
    const flight = runtimeOf(engine).flights.join(call.tierKey, options.coalesceWaitMs + options.leaseMs + (call.options.hardTimeoutMs ?? options.originTimeoutMs))
    if (flight.role === 'waiter') {
      // A stale value within stale-while-revalidate is returned at once: the flight's leader is refreshing it.
      if (stale && usability(stale, 'valid', now) === 'swr') return serveStale(call, stale, 'stale')
      const result = await flight.wait(options.coalesceWaitMs)
      if (result !== 'timeout' && result.kind === 'value') {
        stats.record('collapsed')
        if (result.value.ok) {
          // `collapsed`: waited for the leader's loader; `collapsed-hit`: only for its read of a slower tier.
          call.outcome = result.value.loaded ? 'collapsed' : 'collapsed-hit'
          return result.value.entry
        }
        if (servesOnError(call, stale, options.now())) return serveStale(call, stale, 'stale-if-error')
        throw result.value.error
      }
      // The leader is taking too long: this call goes on by itself.
      return this.#fetch(call, loader, stale)
    }
    let outcome: Outcome = { ok: false, error: new Error('tiercache: the loader did not finish') }
    try {
      const entry = await this.#fetch(call, loader, stale)
      outcome = { ok: true, entry, loaded: call.outcome === 'loaded' || call.outcome === 'collapsed' }
      now = options.now()
      if (kindOf(entry) === 'none' && call.outcome !== 'loaded') stats.record('data_negative_hits')
      return entry
    } catch (error) {
      outcome = { ok: false, error }
      throw error
    } finally {
      flight.publish({ kind: 'value', value: outcome })
    }
  }

  /** Past memory: the shared tiers, then the loader (or a stale value with a background refresh). */
  async #fetch(call: Call, loader: () => unknown, stale: CacheEntry | undefined): Promise<CacheEntry> {
    const read = await readShared(call, stale)
    const now = call.engine.options.now()
    if (read.fresh) {
      this.#maybeRefreshEarly(call, read.fresh, loader, now)
      return read.fresh
    }
    if (read.stale && usability(read.stale, 'valid', now) === 'swr' && call.engine.coherence.judge(read.stale, call.tierKey) !== 'purged') {
      // Another isolate's loader already holds the lease when we are its follower: nobody else refreshes then.
      if (!read.follower) refreshInBackground(call, loader, read.leaseToken)
      return serveStale(call, read.stale, 'stale')
    }
    return load(call, loader, read.stale, { leaseToken: read.leaseToken, seq: read.seq })
  }

  #maybeRefreshEarly(call: Call, entry: CacheEntry, loader: () => unknown, now: number): void {
    if (!shouldRefreshEarly(entry, call.options.beta, now)) return
    call.engine.stats.record('data_early_refreshes')
    refreshInBackground(call, loader, undefined, entry)
  }

  /** The fresh entry at the call's key from the first tier that has one, filling the tiers above. */
  async #peek(call: Call): Promise<CacheEntry | undefined> {
    const { engine } = call
    await ensureFresh(engine, call.background)
    const now = engine.options.now()
    const memory = readMemory(call, now)
    if (memory && usability(memory.entry, memory.verdict, now) === 'fresh') {
      call.outcome = 'memory-hit'
      return memory.entry
    }
    const { edge, redis } = engine.tiers
    const tiers = [edge, redis].filter((tier) => tier !== undefined && !tier.unavailableReason(now))
    for (const tier of tiers) {
      let stored
      try {
        stored = await tier!.get(call.tierKey)
        if (tier === redis) engine.stats.record('redis_requests')
      } catch {
        engine.stats.record(`${tier!.name}_errors`)
        continue
      }
      const entry = stored as CacheEntry | undefined
      if (!entry || entry.kind !== 'entry' || kindOf(entry) === undefined) continue
      const at = engine.options.now()
      if (usability(entry, engine.coherence.judge(entry, call.tierKey), at) !== 'fresh') continue
      const ttlMs = storageTtl(entry, at, 0)
      if (ttlMs > 0) engine.tiers.memory?.set(call.tierKey, entry, ttlMs, at)
      call.outcome = `${tier!.name}-hit`
      return entry
    }
    return undefined
  }

  /** The fresh value at `key`, or `undefined` (absent, expired, purged, or a cached "not found"). */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const call = this.#call(key, { ttl: 1 })
    const started = performance.now()
    try {
      const entry = await this.#peek(call)
      return entry ? (valueOf(entry) as T | undefined) : undefined
    } finally {
      this.#report(call, started)
    }
  }

  /** Whether a fresh value (not a cached "not found") is stored at `key`. */
  async has(key: string): Promise<boolean> {
    const call = this.#call(key, { ttl: 1 })
    const entry = await this.#peek(call)
    return entry !== undefined && kindOf(entry) !== 'none'
  }

  /**
   * Stores `value` at `key` in every tier. Other isolates stop returning the previous value within δ: the
   * write is recorded in the purge log first (so it costs two Redis requests; use `getOrSet` for reads).
   * @throws {TypeError} for a value JSON cannot hold exactly, or `undefined` (use `delete`)
   * @throws {TierError} when Redis could not record the write
   */
  async set(key: string, value: JsonValue | Uint8Array | ArrayBuffer, options?: DataEntryOptions): Promise<void> {
    if (value === undefined) throw new TypeError('tiercache set(key, undefined): to remove a value write delete(key)')
    const call = this.#call(key, options)
    const encoded = encodeValue(value)
    const { engine } = call
    engine.stats.record('data_writes')
    const seq = await invalidate(engine, call.background, this.#scope({ urls: [call.tierKey] }))
    const o = call.options
    const entry = toEntry({ ...encoded, lifetimeMs: o.lifetimeMs, swrMs: o.swrMs, sieMs: o.sieMs, tags: call.tags, purgeSeq: seq, now: engine.options.now(), loadMs: 0 })
    await store(call, entry, undefined)
  }

  /**
   * Removes `key` from every tier: this isolate at once, every other within δ.
   * @throws {TierError} when Redis could not record it
   */
  async delete(key: string): Promise<void> {
    const call = this.#call(key, { ttl: 1 })
    call.engine.stats.record('data_writes')
    await invalidate(call.engine, call.background, this.#scope({ urls: [call.tierKey] }))
  }

  /**
   * Removes every value (and every HTTP entry) carrying any of `tags`, like a purge by tag through the
   * webhook: this isolate at once, every other within δ.
   * @throws {TypeError} for a tag with a comma or space; {TierError} when Redis could not record it
   */
  async deleteByTag(tags: string | string[]): Promise<void> {
    const list = checkTags(typeof tags === 'string' ? [tags] : tags, 'deleteByTag(tags)')
    if (list.length === 0) throw new TypeError('tiercache deleteByTag needs at least one tag, e.g. deleteByTag("users")')
    this.#setup.engine.stats.record('data_writes')
    await invalidate(this.#setup.engine, this.#setup.background, this.#scope({ tags: list }))
  }

  #scope(parts: Partial<PurgeScope>): PurgeScope {
    return { urls: [], tags: [], prefixes: [], all: false, soft: false, ...parts }
  }

  /**
   * A view of the namespace `name` below this one: its keys never meet keys of other namespaces, and
   * `clear()` drops all of them at once.
   */
  namespace(name: string): DataCache {
    return new DataCache({ ...this.#setup, path: [...this.#path, checkNamespace(name)] })
  }

  /**
   * Drops every value of this namespace (and of namespaces below it) everywhere: a version bump carried by
   * the purge log (a purge of the namespace's tag), so no read pays for a version lookup. This isolate at
   * once, every other within δ.
   */
  async clear(): Promise<void> {
    if (this.#path.length === 0) {
      throw new TypeError('tiercache clear() clears a namespace: write cache.namespace("users").clear(), or deleteByTag(tag) for tagged values')
    }
    this.#setup.engine.stats.record('data_writes')
    await invalidate(this.#setup.engine, this.#setup.background, this.#scope({ tags: [this.#namespaceTags.at(-1)!] }))
  }

  /**
   * `fn`, cached by its arguments: a call runs `getOrSet(key(...args), () => fn(...args), options)`.
   * The wrapped function keeps `fn`'s parameter types and returns a promise of its result.
   * @example
   * const userById = cache.wrap(loadUser, { ttl: 60, key: (id) => `user:${id}` })
   * const user = await userById('42') // typed as loadUser's result
   */
  wrap<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, options: WrapOptions<A>): (...args: A) => Promise<R> {
    if (typeof fn !== 'function') throw new TypeError('tiercache wrap(fn, options) needs a function')
    const { key, ...entryOptions } = options ?? {}
    if (key !== undefined && typeof key !== 'function') throw new TypeError('tiercache wrap option key must be a function of the arguments, e.g. { key: (id) => `user:${id}` }')
    if (!key && !fn.name) {
      throw new TypeError('tiercache wrap() of an anonymous function needs a key: write wrap(fn, { ttl: 60, key: (...args) => `name:${args.join(":")}` })')
    }
    // Checked now, so a mistake shows at start-up rather than on the first call.
    resolveEntryOptions(entryOptions, this.#setup.defaults)
    const keyOf = key ?? ((...args: A) => `${fn.name}(${argumentsKey(args)})`)
    return async (...args: A) => this.getOrSet(keyOf(...args), () => fn(...args), entryOptions)
  }
}

/** The JSON of a wrapped function's arguments, as part of its default key. @throws {TypeError} */
function argumentsKey(args: unknown[]): string {
  try {
    encodeValue(args)
  } catch (error) {
    throw new TypeError(`tiercache wrap(): the arguments are not JSON (${(error as Error).message}); give wrap a key function, e.g. { key: (user) => \`user:\${user.id}\` }`)
  }
  return JSON.stringify(args).slice(1, -1)
}
