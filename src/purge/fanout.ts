/**
 * @module Purge fan-out (design.md §5): Redis first — the purge-log record, entry and index deletion
 * and the idempotency id, in one scripted request — then this isolate's memory and its data centre's
 * edge, then Cloudflare's zone purge by tag for the other data centres and Workers Cache purge where
 * `ctx.cache` exists. The purge is acknowledged once Redis has committed it; from then on every
 * isolate stops serving the purged content within δ. If Redis fails nothing was recorded, the caller
 * answers 503, and a retry (same id) does the whole purge.
 */
import type { Coherence } from '../coherence/coherence.ts'
import type { PurgeLog, PurgeScope } from '../coherence/purge-log.ts'
import { ALL_ENTRIES_TAG, USER_TAG_PREFIX, recordMatches, urlTag, type PurgeRecord } from '../coherence/purge-record.ts'
import type { EdgeTier } from '../tiers/edge.ts'
import type { MemoryTier } from '../tiers/memory.ts'
import type { ZonePurgeOutcome, ZonePurger } from './cloudflare.ts'

/** What a purge did, part by part: the webhook's response body. */
export interface PurgeReceipt {
  id: string
  /** Purge-log position; null when Redis is not configured (local purge only). */
  seq: number | null
  duplicate: boolean
  soft: boolean
  scope: { urls: number; tags: number; prefixes: number; everything: boolean }
  redis: { status: 'committed' | 'off' | 'duplicate'; deletedKeys: number }
  memory: { status: 'evicted' | 'marked-stale' | 'unchanged' }
  edge: { status: 'deleted' | 'off' | 'error' | 'judged-on-read' | 'unchanged'; keys: number; error?: string }
  cloudflare: ZonePurgeOutcome | { status: 'off' | 'skipped'; reason?: string }
  workersCache: { status: 'purged' | 'unavailable' | 'error' | 'unchanged'; error?: string }
  /** The staleness bound: every isolate stops serving purged content within this many ms. */
  deltaMs: number
  /** When the purge was committed (ms since the epoch); absent on an answer to a repeated id. */
  at?: number
  /** On an answer to a repeated id: what happened this time, in words. */
  note?: string
  /**
   * On an answer to a repeated id: what the first call with this id did (its receipt as saved with the id),
   * or null when that is not known yet (the first call is still fanning out, or its receipt was not saved).
   */
  first?: Omit<PurgeReceipt, 'first' | 'note' | 'duplicate'> | null
}

/** Said on every answer to a repeated id. */
export const DUPLICATE_NOTE = 'this purge id was already used: nothing was purged this time; "first" says what the first call did'

/** `ctx.cache.purge` of Workers Cache, where the runtime provides it. */
interface WorkersCacheContext {
  cache?: { purge?: (options: { tags?: string[]; purgeEverything?: boolean }) => Promise<unknown> }
}

/** Thrown when Redis could not commit the purge; nothing was recorded. */
export class PurgeNotCommitted extends Error {
  override readonly name = 'PurgeNotCommitted'
}

export interface FanoutDeps {
  /** This isolate's memory, for {@link PurgeFanout.evictLocally} (a committed purge evicts through the purge view). */
  memory: MemoryTier | undefined
  edge: EdgeTier | undefined
  purgeLog: PurgeLog | undefined
  coherence: Coherence
  zone: ZonePurger | undefined
  deltaMs: number
  now: () => number
}

/** The tags that can name edge entries (per-user tags never do). */
const edgeTags = (tags: string[]): string[] => tags.filter((tag) => !tag.startsWith(USER_TAG_PREFIX))

export class PurgeFanout {
  readonly #deps: FanoutDeps

  constructor(deps: FanoutDeps) {
    this.#deps = deps
  }

  /**
   * Purges `scope` (keys already in cache-key form) everywhere. Idempotent per `id`: a repeated id
   * gets the first purge's receipt and causes no second fan-out.
   * @throws {PurgeNotCommitted} when Redis is configured but could not record the purge
   */
  async purge(scope: PurgeScope, id: string, ctx?: WorkersCacheContext): Promise<PurgeReceipt> {
    const { purgeLog, coherence, edge, zone, deltaMs } = this.#deps
    let seq: number | null = null
    let deletedKeys: string[] = []
    if (purgeLog) {
      let committed
      try {
        committed = await purgeLog.commit(scope, id)
      } catch (error) {
        throw new PurgeNotCommitted((error as Error).message, { cause: error })
      }
      if (committed.duplicate) return this.#previous(committed.previous, id, scope)
      seq = committed.seq
      deletedKeys = committed.deletedKeys
      const record: PurgeRecord = { seq, t: committed.t, ...scope }
      coherence.apply([record])
      coherence.committed(seq)
    } else {
      // No shared log: a local purge is all there is, and a soft purge is treated as a hard one. It still
      // enters this isolate's view, numbered after every fill already under way, so memory is evicted, older
      // edge copies are refused, and a fill whose origin request was in flight is fenced (design.md §5).
      const record: PurgeRecord = { seq: coherence.fillSeq + 1, t: this.#deps.now(), ...scope, soft: false }
      coherence.apply([record])
      coherence.committed(record.seq)
    }

    const receipt: PurgeReceipt = {
      id,
      seq,
      duplicate: false,
      soft: scope.soft,
      scope: { urls: scope.urls.length, tags: scope.tags.length, prefixes: scope.prefixes.length, everything: scope.all },
      redis: { status: purgeLog ? 'committed' : 'off', deletedKeys: deletedKeys.length },
      memory: { status: scope.soft ? 'marked-stale' : 'evicted' },
      edge: { status: 'off', keys: 0 },
      cloudflare: { status: 'off' },
      workersCache: { status: 'unavailable' },
      deltaMs,
      at: this.#deps.now(),
    }

    const [edgeOutcome, zoneOutcome, workersOutcome] = await Promise.all([
      this.#purgeEdge(edge, scope, deletedKeys),
      this.#purgeZone(zone, scope),
      this.#purgeWorkersCache(ctx, scope),
    ])
    receipt.edge = edgeOutcome
    receipt.cloudflare = zoneOutcome
    receipt.workersCache = workersOutcome
    if (purgeLog) await purgeLog.saveReceipt(id, receipt).catch(() => {})
    return receipt
  }

  /**
   * When Redis could not commit a purge: what this isolate can still do on its own — evict matching memory
   * entries and delete the URLs' edge copies in this data centre — so at least the writer's next read here
   * does not get the old copy. Nothing enters the purge view: its positions belong to the Redis log.
   */
  async evictLocally(scope: PurgeScope): Promise<void> {
    const { memory, edge, now } = this.#deps
    const record: PurgeRecord = { seq: Number.MAX_SAFE_INTEGER, t: now(), ...scope, soft: false }
    memory?.deleteWhere((key, value) => recordMatches(record, key, value.kind === 'entry' ? value.tags : []))
    if (edge && !edge.unavailableReason(now()) && scope.urls.length > 0) await edge.delete(scope.urls).catch(() => {})
  }

  async #purgeEdge(edge: EdgeTier | undefined, scope: PurgeScope, deletedKeys: string[]): Promise<PurgeReceipt['edge']> {
    if (!edge || edge.unavailableReason(this.#deps.now())) return { status: 'off', keys: 0 }
    // Soft purges, prefixes and "everything" cannot be enumerated at the edge: isolates judge those
    // entries against the purge log on every read instead.
    if (scope.soft) return { status: 'judged-on-read', keys: 0 }
    const keys = [...new Set([...scope.urls, ...deletedKeys])]
    try {
      await edge.delete(keys)
      return { status: scope.prefixes.length > 0 || scope.all ? 'judged-on-read' : 'deleted', keys: keys.length }
    } catch (error) {
      return { status: 'error', keys: 0, error: (error as Error).message }
    }
  }

  async #purgeZone(zone: ZonePurger | undefined, scope: PurgeScope): Promise<PurgeReceipt['cloudflare']> {
    if (!zone) return { status: 'off' }
    if (scope.soft) return { status: 'skipped', reason: 'soft purge: edge copies turn stale through the purge log' }
    // Prefix purges are not forwarded: each data centre's isolates refuse those entries within δ. User
    // tags are not either: per-user entries never reach the edge.
    const tags = [...edgeTags(scope.tags), ...scope.urls.map(urlTag), ...(scope.all ? [ALL_ENTRIES_TAG] : [])]
    if (tags.length === 0) return { status: 'skipped', reason: 'no edge tags: prefix and per-user purges are enforced by the purge log' }
    try {
      return await zone.purgeTags([...new Set(tags)])
    } catch (error) {
      return { status: 'error', calls: 0, queued: 0, error: (error as Error).message }
    }
  }

  async #purgeWorkersCache(ctx: WorkersCacheContext | undefined, scope: PurgeScope): Promise<PurgeReceipt['workersCache']> {
    const purge = ctx?.cache?.purge
    if (typeof purge !== 'function') return { status: 'unavailable' }
    try {
      const tags = [...edgeTags(scope.tags), ...scope.urls.map(urlTag)]
      if (!scope.all && tags.length === 0) return { status: 'unavailable' }
      await purge.call(ctx?.cache, scope.all ? { purgeEverything: true } : { tags })
      return { status: 'purged' }
    } catch (error) {
      return { status: 'error', error: (error as Error).message }
    }
  }

  /**
   * The answer to a repeated id: it says it is a duplicate, that this call purged nothing (every part
   * `unchanged`), and what the first call with the id did (`first`: its receipt as saved with the id in
   * Redis). Until that receipt is saved (the first call is still fanning out, or saving it failed) or when it
   * cannot be read, `first` is null and the answer says only what is certain: Redis committed the purge — the
   * id is stored by the commit itself — so every isolate applies it within δ. It is never "not committed": a
   * retry would find the same id and could not do better.
   */
  #previous(previous: string, id: string, scope: PurgeScope): PurgeReceipt {
    let stored: (Partial<PurgeReceipt> & { pending?: boolean }) | undefined
    try {
      const value: unknown = JSON.parse(previous)
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) stored = value
    } catch {
      stored = undefined
    }
    const known = stored && !stored.pending ? stored : undefined
    const reason = known
      ? 'duplicate purge id'
      : stored
        ? 'the first request with this id is still fanning out, or its receipt was not saved'
        : 'the receipt of the first request with this id is unreadable'
    let first: PurgeReceipt['first'] = null
    if (known) {
      const { duplicate: _duplicate, note: _note, first: _first, ...summary } = known as PurgeReceipt
      first = summary
    }
    return {
      id,
      seq: typeof stored?.seq === 'number' ? stored.seq : null,
      duplicate: true,
      note: DUPLICATE_NOTE,
      soft: scope.soft,
      scope: { urls: scope.urls.length, tags: scope.tags.length, prefixes: scope.prefixes.length, everything: scope.all },
      redis: { status: 'duplicate', deletedKeys: 0 },
      memory: { status: 'unchanged' },
      edge: { status: 'unchanged', keys: 0 },
      cloudflare: { status: 'skipped', reason },
      workersCache: { status: 'unchanged' },
      deltaMs: this.#deps.deltaMs,
      first,
    }
  }
}
