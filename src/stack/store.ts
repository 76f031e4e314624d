/**
 * @module Writing a new entry (and its URL's vary index) to the tiers that take it.
 *
 * Each tier has its own size limit (design.md §4 rule 4), checked before the response goes out so that
 * `Cache-Status` says `stored` only for tiers that take the entry: memory stores synchronously; Redis and
 * the edge are written in the background, Redis first, through the fenced fill (design.md §5: a purge
 * that landed while the origin was asked refuses the write, and then the edge is not written either). An
 * entry too big for Redis still goes to the edge and memory if they take it; that is a size limit, not a
 * fence.
 *
 * Bodies larger than the tiers that need bytes (memory, Redis) never sit in memory whole: they stream to
 * the client and, through a tee, into the edge ({@link streamToEdge}).
 */
import { entryHeader, type CacheEntry, type Stored, type VaryIndex } from '../entry.ts'
import { parseVary, variantKeySuffix } from '../policy/vary.ts'
import { leaseTokenOf, quietly, storageTtlOf, type RequestState, type StackContext } from './context.ts'

/** Variants remembered per URL for purge-by-URL. */
const MAX_VARIANTS = 64

interface Write {
  key: string
  value: Stored
  ttlMs: number
}

/** Length of a variant key's suffix: `|v=` and 22 characters of digest (src/policy/vary.ts). */
const VARIANT_SUFFIX_LENGTH = 25

/** The `Vary` names an entry is stored under, or none. */
const varyOf = (entry: CacheEntry): string[] => {
  const vary = parseVary(entryHeader(entry, 'vary') ?? null)
  return vary === '*' ? [] : vary
}

/**
 * Where an entry goes: its variant key and, for a URL whose responses vary, the updated index. Without
 * `Vary` the answer is synchronous, so the memory write lands before the response is served and the
 * next request in this isolate hits; with it a digest is needed first.
 */
function placement(state: RequestState, entry: CacheEntry, vary: string[], ttl: number, now: number): Write[] | Promise<Write[]> {
  if (vary.length === 0) return [{ key: state.primaryKey, value: entry, ttlMs: ttl }]
  return variantPlacement(state, entry, vary, ttl, now)
}

async function variantPlacement(state: RequestState, entry: CacheEntry, vary: string[], ttl: number, now: number): Promise<Write[]> {
  const suffix = await variantKeySuffix(vary, state.request.headers)
  const previous = state.varyIndex && state.varyIndex.varyOn.join() === vary.join() ? state.varyIndex.variants : []
  const index: VaryIndex = {
    kind: 'vary',
    varyOn: vary,
    variants: [suffix, ...previous.filter((s) => s !== suffix)].slice(0, MAX_VARIANTS),
    expiresAt: Math.max(now + ttl, state.varyIndex?.expiresAt ?? 0),
  }
  return [
    { key: state.primaryKey, value: index, ttlMs: index.expiresAt - now },
    { key: `${state.primaryKey}|v=${suffix}`, value: entry, ttlMs: ttl },
  ]
}

/** Whether a purge this isolate already knows of, newer than the fill's start, covers the entry. */
const fenced = (context: StackContext, state: RequestState, entry: CacheEntry) =>
  context.coherence.judge(entry, state.primaryKey) === 'purged'

/** Writes a new entry to every tier that takes it; notes in `Cache-Status` which ones will. */
export function storeEntry(context: StackContext, state: RequestState, entry: CacheEntry): void {
  const now = context.options.now()
  const ttl = storageTtlOf(context, entry, now)
  if (ttl <= 0) return
  const { memory, edge, redis } = context.tiers
  const vary = varyOf(entry)
  // Size checks first: asking a tier whether it is available may take its breaker's one half-open trial,
  // which must then be spent on a real call.
  const toEdge = edge && !state.perUser && edge.fits(entry) && !edge.unavailableReason(now) ? edge : undefined
  const redisFits = redis?.fits(entry) ?? false
  const toRedis = redis && redisFits && !redis.unavailableReason(now) ? redis : undefined
  if (redis && !redisFits) state.status.note('redis', { detail: 'too-large' })
  // The fenced fill releases our lease: from here on it is the fill's to release, not the request's.
  const leaseToken = toRedis && state.redisRole === 'leader' ? leaseTokenOf(state) : ''
  if (leaseToken) state.redisRole = undefined

  /** A purge this isolate knows of covers the entry: no tier is written, and the lease is let go. */
  const stopFenced = async (): Promise<void> => {
    state.status.note('memory', { detail: 'fill-fenced' })
    context.stats.record('fills_fenced')
    if (leaseToken) await redis?.releaseLease(state.key, leaseToken)
  }
  // Checked before any tier is noted as `stored`: a fenced fill stores nothing, so it may claim nothing
  // (RFC 9211 §2.6).
  if (fenced(context, state, entry)) {
    state.ctx.waitUntil(quietly(stopFenced()))
    return
  }

  const write = async (): Promise<void> => {
    const placed = placement(state, entry, vary, ttl, now)
    const writes = Array.isArray(placed) ? placed : await placed
    // Again once a varying entry's key is known: a purge may have landed while it was digested.
    if (fenced(context, state, entry)) return stopFenced()
    for (const w of writes) memory?.set(w.key, w.value, w.ttlMs, now)
    const writeEdge = () => (toEdge && !fenced(context, state, entry) ? Promise.all(writes.map((w) => toEdge.set(w.key, w.value, w.ttlMs))) : undefined)
    if (!toRedis) {
      await writeEdge()
      return
    }
    const fence = { purgeSeq: entry.purgeSeq, primaryKey: state.primaryKey, tags: entry.tags }
    let filled
    try {
      filled = await toRedis.fill(writes, state.key, leaseToken, fence)
    } catch (error) {
      // Redis unreachable: the edge copy is still fenced by this isolate's purge-log view.
      await writeEdge()
      throw error
    }
    context.stats.record('redis_requests')
    if (filled.outcome === 'fenced') {
      // Redis refused: a purge covering this entry landed while the origin fetch ran.
      for (const w of writes) memory?.delete(w.key)
      context.stats.record('fills_fenced')
      return
    }
    context.stats.record('redis_bytes_written', filled.bytes)
    context.stats.record('body_bytes_written', entry.body.byteLength)
    await writeEdge()
  }
  const keyLength = state.primaryKey.length + (vary.length > 0 ? VARIANT_SUFFIX_LENGTH : 0)
  if (memory?.fits(entry, keyLength)) state.status.note('memory', { stored: true })
  if (toEdge) state.status.note('edge', { stored: true })
  if (toRedis) state.status.note('redis', { stored: true })
  // Runs synchronously up to its first await (see placement); callers await nothing.
  state.ctx.waitUntil(quietly(write()))
}

/**
 * Streams a storable body that is too large to hold in memory: one branch of a tee to the client (the
 * returned stream), the other into the edge when the edge takes it. A body that breaks off fails the edge
 * write, so nothing partial is stored. Returns the client's stream.
 */
export function streamToEdge(
  context: StackContext,
  state: RequestState,
  entry: CacheEntry,
  body: ReadableStream<Uint8Array>,
  declaredBytes: number | undefined
): ReadableStream<Uint8Array> {
  const now = context.options.now()
  const ttl = storageTtlOf(context, entry, now)
  const edge = context.tiers.edge
  const takes =
    edge && ttl > 0 && !state.perUser && edge.fitsBody(entry, declaredBytes) && !fenced(context, state, entry) && !edge.unavailableReason(now)
  if (context.tiers.memory) state.status.note('memory', { detail: 'too-large' })
  if (context.tiers.redis) state.status.note('redis', { detail: 'too-large' })
  if (!takes || !edge) return body
  const [toClient, toEdge] = body.tee()
  state.status.note('edge', { stored: true })
  const write = async (): Promise<void> => {
    const writes = await placement(state, entry, varyOf(entry), ttl, now)
    const variant = writes[writes.length - 1] as Write
    for (const w of writes) if (w.value.kind === 'vary') context.tiers.memory?.set(w.key, w.value, w.ttlMs, now)
    await edge.setStream(variant.key, entry, toEdge, ttl, declaredBytes)
    if (fenced(context, state, entry)) {
      await edge.delete([variant.key])
      return
    }
    await Promise.all(writes.filter((w) => w.value.kind === 'vary').map((w) => edge.set(w.key, w.value, w.ttlMs)))
  }
  state.ctx.waitUntil(quietly(write()))
  return toClient
}
