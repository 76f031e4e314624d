/**
 * @module The purge-log view shared by the isolates of one data centre, through the Cache API.
 *
 * Reading the purge log costs one Upstash request per isolate per δ; a busy worker has thousands of
 * isolates, so that alone can be 1,000 requests a second. The Cache API is shared by the isolates of a
 * data centre and costs no Upstash request, so one isolate publishes what it read from Redis there and
 * the others take it from there (design.md §5: "the isolate's log position can be shared colo-wide").
 *
 * What is shared: the tail of the log as one JSON document — the position reached (`current`), the
 * records after `from` (every record in `(from, current]` the log held), and `readAt`, the time the Redis
 * read behind it *started*. Every purge acknowledged before `readAt` is in it, so an isolate that takes it
 * has a view exactly as old as that read, not as old as its own look at the Cache API: the δ bound holds
 * unchanged, plus the clock skew between the isolates of one data centre (see {@link MAX_CLOCK_AHEAD_MS}).
 *
 * Races. When the shared copy turns older than δ, every busy isolate finds it stale at about the same
 * moment. The first writes a short "refreshing" marker, then reads Redis and publishes; the others see
 * the marker and poll the shared copy until the new one lands (or the marker's lease runs out, and then
 * read Redis themselves). The Cache API has no compare-and-set, so isolates that look for the marker
 * within the same few milliseconds may each read: a few reads per δ at worst, not one per isolate.
 *
 * Never trusted blindly: an entry that is missing, unreadable, oversized, from a different log, or
 * stamped further in the future than clock skew explains is ignored, and the isolate reads Redis as
 * before. Where the Cache API keeps nothing (`*.workers.dev`), the isolate notices that its own marker
 * never shows up and stops using the shared copy for a while: per-isolate reads, as without it.
 */
import type { PurgeRecord } from './purge-record.ts'
import { urlTag } from './purge-record.ts'

/**
 * How much purge history the shared copy carries, in δ: records up to this many δ older than the newest
 * one. An isolate with traffic refreshes every δ, so it is never that far behind; one that was idle longer
 * reads Redis itself, once. Keeps the copy small when the log is long (1,000 records at 5 purges a second
 * span 200 s; the copy then holds 10 δ × 5/s = 50 records at δ = 2 s, ~8 KB).
 */
export const SHARED_TAIL_DELTAS = 5
/** Most records the shared copy carries (an isolate further behind follows the log in Redis itself). */
export const SHARED_TAIL_RECORDS = 500
/** Most bytes of record JSON the shared copy carries (at least the newest record, if it fits alone). */
export const SHARED_TAIL_BYTES = 128 * 1024
/** A shared copy larger than this is ignored without being read (it was not written by this code). */
export const MAX_SHARED_BYTES = 2 * SHARED_TAIL_BYTES + 4096
/**
 * How far in the future a `readAt` may be and still be believed (the writer's clock ahead of ours). The
 * isolates of one data centre share NTP-disciplined clocks; a copy stamped later than this is ignored.
 */
export const MAX_CLOCK_AHEAD_MS = 1000
/** How long the Cache API keeps the shared copy and the marker (each carries its own time; this only frees space). */
const STORE_SECONDS = 60
/** Marker checks in a row that found our own marker missing before the shared copy is given up. */
const UNSEEN_LIMIT = 3
/** How long an isolate whose Cache API keeps nothing stops trying. */
const OFF_MS = 10 * 60_000
/** Document version: a copy of another version is ignored. */
const VERSION = 1

/** The log's tail as one isolate read it from Redis. */
export interface SharedView {
  /** When the Redis read behind this copy started (ms since the epoch, the writer's clock). */
  readAt: number
  /** The log position the read reached: every record up to it was read. */
  current: number
  /** Every record of the log in `(from, current]` is in {@link records}. */
  from: number
  /** Oldest first. */
  records: PurgeRecord[]
}

/** A refresh marker: which isolate set it (a random id per isolate) and when (its clock). */
export interface Marker {
  id: string
  at: number
}

/** Counters the shared copy reports (stats). */
export type ColoEvent =
  /** A view taken from the shared copy instead of Redis. */
  | 'log_shared_reads'
  /** A shared copy published after a Redis read. */
  | 'log_shared_writes'
  /** A refresh that waited for another isolate's read and got it. */
  | 'log_shared_waits'
  /** A shared copy ignored: unreadable, oversized, of another log or version, or from the future. */
  | 'log_shared_invalid'

/** The part of the Cache API this uses. */
export type ViewCache = Pick<Cache, 'match' | 'put'>

export interface ColoViewConfig {
  /** Opens the Cache API cache (the edge tier's). */
  open: () => Promise<ViewCache>
  /** Identifies the log: the Redis URL and key prefix (views of different logs must never mix). */
  logId: string
  /** Path prefix of the internal URLs (never a site path). */
  pathPrefix: string
  /** How long a marker holds off other readers, in ms (longer than one Redis read can take). */
  leaseMs: number
  now: () => number
  count?: (event: ColoEvent) => void
}

/** The internal URLs of the shared copy and its marker, per log. */
export const coloViewUrls = (logId: string, pathPrefix: string) => {
  const base = `https://tiercache.invalid${pathPrefix}/coherence/${urlTag(logId).slice('tiercache-url-'.length)}`
  return { view: `${base}/view`, marker: `${base}/refreshing` }
}

const isSeq = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= -1

/** Parses a shared copy; undefined unless it is exactly what {@link encodeView} writes for `logId`. */
export function decodeView(text: string, logId: string): SharedView | undefined {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof doc !== 'object' || doc === null) return undefined
  const d = doc as Record<string, unknown>
  if (d.v !== VERSION || d.log !== logId || !isSeq(d.current) || !isSeq(d.from) || d.from > d.current) return undefined
  if (typeof d.readAt !== 'number' || !Number.isFinite(d.readAt) || !Array.isArray(d.records)) return undefined
  const records: PurgeRecord[] = []
  for (const r of d.records as unknown[]) {
    if (typeof r !== 'object' || r === null) return undefined
    const seq = (r as { seq?: unknown }).seq
    // A record outside (from, current] would be applied as if the log said so: the whole copy is suspect.
    if (!isSeq(seq) || seq <= d.from || seq > d.current) return undefined
    records.push(r as PurgeRecord)
  }
  return { readAt: d.readAt, current: d.current, from: d.from, records }
}

/** The shared copy's JSON. */
export const encodeView = (view: SharedView, logId: string): string =>
  JSON.stringify({ v: VERSION, log: logId, readAt: view.readAt, current: view.current, from: view.from, records: view.records })

/**
 * The tail an isolate publishes from what it holds: its newest records up to `current`, within the count
 * and byte bounds and no older than `spanMs` before the newest (by the records' own Redis times).
 * `windowStart` is the lowest position from which on the isolate holds every record.
 * @param sizes each record's size, in the order of `records`
 */
export function tailOf(
  records: readonly PurgeRecord[],
  sizes: readonly number[],
  windowStart: number,
  current: number,
  spanMs = Number.POSITIVE_INFINITY
): Pick<SharedView, 'from' | 'records'> {
  let i = records.length
  while (i > 0 && records[i - 1]!.seq > current) i--
  const end = i
  const oldest = end > 0 ? records[end - 1]!.t - spanMs : 0
  let bytes = 0
  while (i > 0 && end - i < SHARED_TAIL_RECORDS && bytes + sizes[i - 1]! <= SHARED_TAIL_BYTES && records[i - 1]!.t >= oldest) {
    bytes += sizes[i - 1]!
    i--
  }
  // Everything held was taken: the copy reaches back as far as this isolate's window. Otherwise it starts
  // after the newest record left out (any position between that and the first taken had no record).
  const from = i === 0 ? Math.max(-1, Math.min(current, windowStart - 1)) : records[i - 1]!.seq
  return { from, records: records.slice(i, end) }
}

/** Reads a response body only when it is small enough; undefined (body cancelled) otherwise. */
async function boundedText(response: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel()
    return undefined
  }
  const text = await response.text()
  return text.length > maxBytes ? undefined : text
}

/** The shared copy of the purge-log view in one data centre's Cache API. */
export class ColoView {
  readonly #config: ColoViewConfig
  readonly #urls: { view: string; marker: string }
  /** This isolate's marker id, made on first use: Workers refuse random values in global scope, where a middleware may build this. */
  #idValue: string | undefined
  #cache: Promise<ViewCache> | undefined
  #unseen = 0
  #offUntil = Number.NEGATIVE_INFINITY

  get #id(): string {
    this.#idValue ??= crypto.randomUUID()
    return this.#idValue
  }

  constructor(config: ColoViewConfig) {
    this.#config = config
    this.#urls = coloViewUrls(config.logId, config.pathPrefix)
  }

  /** How long a marker holds off other readers, in ms. */
  get leaseMs(): number {
    return this.#config.leaseMs
  }

  /** Whether the shared copy is in use (false for a while after the Cache API proved to keep nothing). */
  enabled(now = this.#config.now()): boolean {
    return now >= this.#offUntil
  }

  #open(): Promise<ViewCache> {
    this.#cache ??= this.#config.open()
    const opened = this.#cache
    // A cache that failed to open is tried again next time, not remembered as failed forever.
    opened.catch(() => {
      if (this.#cache === opened) this.#cache = undefined
    })
    return opened
  }

  /**
   * The shared copy and the refresh marker, looked up together (one round of Cache API calls before a
   * refresh decides, not two). Never throws.
   */
  async look(): Promise<{ view: SharedView | undefined; marker: Marker | undefined }> {
    const [view, marker] = await Promise.all([this.read(), this.#open().then((cache) => this.#marker(cache)).catch(() => undefined)])
    return { view, marker }
  }

  /** The shared copy, when there is a believable one. Never throws: any failure reads as "none". */
  async read(): Promise<SharedView | undefined> {
    try {
      const response = await (await this.#open()).match(this.#urls.view)
      if (!response) return undefined
      const text = await boundedText(response, MAX_SHARED_BYTES)
      const view = text === undefined ? undefined : decodeView(text, this.#config.logId)
      if (!view || view.readAt > this.#config.now() + MAX_CLOCK_AHEAD_MS) {
        this.#config.count?.('log_shared_invalid')
        return undefined
      }
      return view
    } catch {
      return undefined
    }
  }

  /** Publishes a view read from Redis. Never throws (the isolate's own view is already fresh). */
  async publish(view: SharedView): Promise<void> {
    try {
      const body = encodeView(view, this.#config.logId)
      await (await this.#open()).put(this.#urls.view, stored(body))
      this.#config.count?.('log_shared_writes')
    } catch (error) {
      console.warn(`[tiercache] could not share the purge-log view: ${(error as Error).message}`)
    }
  }

  /**
   * Claims the refresh, given the marker {@link look} found: `mine` when this isolate should read Redis
   * (no other isolate is refreshing, or the Cache API cannot tell), else the time the other isolate's marker was set, so the caller can wait
   * for its publication until the lease ends. A marker no newer than `copyReadAt` (the shared copy's) is
   * a finished refresh: its holder started its read after setting it and has published.
   */
  async claim(copyReadAt = Number.NEGATIVE_INFINITY, held?: Marker): Promise<{ mine: true } | { mine: false; since: number }> {
    try {
      const cache = await this.#open()
      const now = this.#config.now()
      if (held && held.id !== this.#id && held.at > copyReadAt && now - held.at < this.#config.leaseMs && held.at <= now + MAX_CLOCK_AHEAD_MS) {
        return { mine: false, since: held.at }
      }
      await cache.put(this.#urls.marker, stored(JSON.stringify({ id: this.#id, at: now })))
      // Last writer wins: an isolate that wrote its marker just after ours reads first, we wait for it.
      const check = await this.#marker(cache)
      if (!check) {
        // Our own marker is not there: this Cache API keeps nothing (workers.dev). After a few such
        // checks, stop paying for Cache API calls that cannot save a Redis read.
        if (++this.#unseen >= UNSEEN_LIMIT) {
          this.#offUntil = now + OFF_MS
          this.#unseen = 0
          console.warn('[tiercache] the Cache API keeps nothing here; the purge-log view is read per isolate')
        }
        return { mine: true }
      }
      this.#unseen = 0
      if (check.id !== this.#id && now - check.at < this.#config.leaseMs) return { mine: false, since: check.at }
      return { mine: true }
    } catch {
      return { mine: true }
    }
  }

  async #marker(cache: ViewCache): Promise<Marker | undefined> {
    const response = await cache.match(this.#urls.marker)
    if (!response) return undefined
    const text = await boundedText(response, 1024)
    try {
      const m = JSON.parse(text ?? '') as { id?: unknown; at?: unknown }
      return typeof m.id === 'string' && typeof m.at === 'number' && Number.isFinite(m.at) ? { id: m.id, at: m.at } : undefined
    } catch {
      return undefined
    }
  }
}

const stored = (body: string): Response =>
  new Response(body, { headers: { 'content-type': 'application/json', 'cache-control': `public, max-age=${STORE_SECONDS}` } })
