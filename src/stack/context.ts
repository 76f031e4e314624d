/**
 * @module What every path of the tier stack shares: the isolate-wide context (options, tiers, counters,
 * coherence, in-flight fetches) and the state of one request as it moves through the tiers. Each path
 * (lookup, hit, stale, origin fill, store, HEAD, unsafe methods) is a file of functions over these two.
 */
import { remainingFreshness, storageTtl, type CacheEntry } from '../entry.ts'
import type { ResolvedOptions, RouteRule } from '../options.ts'
import { LookupStatus } from '../observe/lookup-status.ts'
import type { Stats } from '../observe/stats.ts'
import { parseRequestDirectives, type Directives } from '../policy/cache-control.ts'
import type { SingleFlight } from '../coherence/flight.ts'
import type { Coherence } from '../coherence/coherence.ts'
import type { PurgeFanout } from '../purge/fanout.ts'
import type { MemoryTier } from '../tiers/memory.ts'
import type { EdgeTier } from '../tiers/edge.ts'
import type { RedisTier } from '../tiers/redis.ts'
import type { TierName } from '../tiers/tier.ts'
import type { VaryIndex } from '../entry.ts'
import type { HitForMiss, RequestKind } from './hit-for-miss.ts'
import type { EdgeHeat } from './edge-heat.ts'
import type { KeyParts } from '../routes.ts'
import type { RequestObserver } from '../observe/request-observer.ts'

/**
 * How the stack reaches the origin (or, in the middleware, the route handler). `signal` aborts when the
 * stack gives up on the answer (its deadline passed, or the body stalled); honour it where you can.
 */
export type Produce = (request: Request, signal: AbortSignal) => Promise<Response>

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

/**
 * An entry found in a tier. A large edge entry is served from the Cache API's stream instead of being read
 * into memory: then `streamed` is set, `entry.body` is empty, and `stream` is the body until something
 * consumes it (a body can be read once; a later revalidation reads the edge again).
 */
export interface Found {
  entry: CacheEntry
  tier: TierName
  key: string
  streamed?: boolean
  stream?: ReadableStream<Uint8Array>
  /** A streamed body's length, when known (for `Content-Length` and ranges). */
  bodyLength?: number
  /**
   * A small edge entry's stored response, body unread (then `entry.body` is empty): a fresh hit serves it
   * as it is (src/serve.ts `serveEdgeHit`); any other use reads the body first ({@link materialize}).
   */
  lazy?: Response
}

/** The found entry with its body read, when it came from the edge unread. */
export async function materialize(found: Found): Promise<Found> {
  if (!found.lazy) return found
  const body = new Uint8Array(await found.lazy.arrayBuffer())
  const { lazy: _read, ...rest } = found
  return { ...rest, entry: { ...found.entry, body } }
}

/**
 * Lets go of a found entry's body stream when the entry is not served after all (a large edge entry's body
 * is held open until something reads or cancels it).
 */
export const discardStream = (found: Found | undefined): void => void (found?.stream ?? found?.lazy?.body)?.cancel().catch(() => {})

/** Extra storage time for entries with validators, so they can be revalidated with a 304. */
const KEEP_FOR_REVALIDATION_MS = 24 * 3600_000

/** The isolate-wide parts every path uses. One per engine. */
export interface StackContext {
  options: ResolvedOptions
  tiers: Tiers
  stats: Stats
  coherence: Coherence
  fanout: PurgeFanout
  flights: SingleFlight<CacheEntry>
  /** Keys with a background (stale-while-revalidate) refresh in flight in this isolate. */
  refreshing: Set<string>
  hitForMiss: HitForMiss
  /** Which keys have earned a memory fill from an edge hit (src/stack/edge-heat.ts). */
  edgeHeat: EdgeHeat
  /**
   * Largest body read into memory before answering: the larger of the memory and Redis per-entry limits
   * (the tiers that need the bytes). Larger storable bodies stream to the client and into the edge.
   */
  bufferLimit: number
  /** Told about every answered GET/HEAD (hot keys, edge counters, Analytics Engine). */
  observer: RequestObserver | undefined
}

/** One request's way through the stack. */
export interface RequestState {
  request: Request
  route: RouteRule | undefined
  status: LookupStatus
  primaryKey: string
  /** The key of the variant this request selects, once known. */
  key: string
  varyIndex: VaryIndex | undefined
  /** Carries `Authorization` or `Cookie` and is not keyed per user (RFC 9111 §3.5; design.md §4 rule 1). */
  credentials: boolean
  /** Which hit-for-miss marker this request reads and writes: credentialed answers never block anonymous ones. */
  kind: RequestKind
  perUser: boolean
  /** The per-user identity hash (per-user routes). */
  identity: string | undefined
  /** The cohort holds a cookie: stored entries go to clients as `private`. */
  cohortCookie: boolean
  /** Request headers a cohort route keys on, handled as if the origin's `Vary` named them. */
  cohortHeaders: readonly string[]
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

/** Builds the state of a GET/HEAD request about to be looked up. */
export function requestState(
  context: StackContext,
  request: Request,
  route: RouteRule | undefined,
  primaryKey: string,
  parts: KeyParts | undefined,
  ctx: WaitUntil,
  produce: Produce
): RequestState {
  const identity = parts?.identity
  const credentials = !identity && (request.headers.has('authorization') || request.headers.has('cookie'))
  const status = new LookupStatus(context.stats.latency)
  // Which bucket the key selects, without revealing the identity or the cohort's values (RFC 9211 extension).
  if (identity || parts?.cohort) {
    const bucket = [identity && `user:${identity.slice(0, 8)}`, parts?.cohort && `cohort:${parts.cohort.slice(0, 8)}`].filter(Boolean).join(',')
    status.note('memory', { bucket })
  }
  return {
    request,
    route,
    status,
    primaryKey,
    key: primaryKey,
    varyIndex: undefined,
    credentials,
    kind: credentials ? 'credentialed' : 'anonymous',
    perUser: Boolean(identity),
    identity,
    cohortCookie: parts?.cohortCookie ?? false,
    cohortHeaders: route?.cohort?.headers ?? [],
    requestDirectives: parseRequestDirectives(request.headers),
    leaseToken: '',
    redisRole: undefined,
    purgeSeq: context.coherence.fillSeq,
    deltaMs: route?.deltaMs ?? context.options.coherenceDeltaMs,
    ctx,
    produce,
  }
}

/** The request's lease token: a memory hit never needs one, so it is not made until Redis is asked. */
export const leaseTokenOf = (state: RequestState): string => (state.leaseToken ||= crypto.randomUUID())

/**
 * How long the tiers keep `entry` from `now`: its freshness, its stale windows and the configured grace,
 * and a day more when it has validators, so it can still be revalidated with a 304.
 */
export const storageTtlOf = (context: StackContext, entry: CacheEntry, now: number): number =>
  storageTtl(entry, now, KEEP_FOR_REVALIDATION_MS, context.options.graceSeconds * 1000)

/** Remaining freshness in whole seconds, for `Cache-Status` `ttl` (RFC 9211 §2.4). */
export const ttlSeconds = (entry: CacheEntry, now: number): number => Math.round(remainingFreshness(entry, now) / 1000)

/** Runs background work, logging instead of rejecting: a failed fill never fails a request. */
export async function quietly(promise: Promise<unknown>): Promise<void> {
  try {
    await promise
  } catch (error) {
    console.warn(`[tiercache] background write failed: ${(error as Error).message}`)
  }
}
