/**
 * @module The edge tier (L0): the Workers Cache API, shared by the isolates of one data centre.
 *
 * Entries are stored as a Response whose body is the entry body and whose header fields are the entry's,
 * with tiercache's own fields in one compact `X-Tiercache` header (src/tiers/edge-form.ts), under a
 * synthetic URL derived from the cache key. The stored copy's own `Cache-Control` is ours (the remaining
 * storage time), so the Cache API expires it on time and never refuses it for the origin's
 * `private`/`no-store` (those never get here). `Cache-Tag` lists the entry's tags so Cloudflare's zone
 * purge by tag reaches every colo.
 *
 * Platform facts (reference/upstash-and-workers.md §4.3): the Cache API does nothing on
 * `*.workers.dev`, `put` throws on `Vary: *` and 206, and `delete` is local to one data centre.
 * Where `caches` is missing or calls keep throwing, the tier switches itself off and says why.
 */
import type { Stored } from '../entry.ts'
import { limitBytes } from '../body-stream.ts'
import { parseHttpDate } from '../policy/http-date.ts'
import { EDGE_META_HEADER, decodeEdgeMeta, encodeEdgeMeta } from './edge-form.ts'
import { CircuitBreaker } from './breaker.ts'
import { TierName, type SharedTier } from './tier.ts'
import { ALL_ENTRIES_TAG, urlOfKey, urlTag } from '../coherence/purge-record.ts'

export { EDGE_META_HEADER } from './edge-form.ts'

/**
 * Response header with a streamed body's length: the Cache API keeps no `Content-Length` for a body
 * stored from a stream (seen under Miniflare), and ranges and `Content-Length` need it.
 */
const EDGE_LENGTH_HEADER = 'x-tiercache-length'

/** Largest metadata header stored at the edge. */
const MAX_META_BYTES = 32 * 1024

const EMPTY = new Uint8Array(0)

/** Cloudflare limits one `Cache-Tag` header to 16 KB in aggregate. */
const MAX_CACHE_TAG_BYTES = 16 * 1024

/** Settings for {@link EdgeTier}. */
export interface EdgeTierConfig {
  cacheName: string
  maxEntryBytes: number
  /**
   * Bodies longer than this (or of unknown length) are handed back as a stream by {@link EdgeTier.read}
   * instead of being read into memory: nothing above it would be kept in memory anyway.
   */
  streamAboveBytes: number
  /** Path prefix of the synthetic URLs (the internal prefix, so they never collide with site paths). */
  pathPrefix: string
  now: () => number
}

/**
 * The synthetic URL an entry is stored under: same scheme and host as the cached URL (so it lives in
 * the same zone), a path under the internal prefix, and the full key as one encoded segment.
 * Keys begin with a normalised absolute URL (src/policy/key.ts), so its origin is the text up to the
 * first `/` after the scheme: a string slice, where parsing a URL on every edge lookup showed up in
 * the profile. Keys that are not http(s) URLs (data API keys) live under a fixed host.
 */
export function edgeUrlFor(key: string, pathPrefix: string): string {
  return `${originOfKey(key)}${pathPrefix}/edge/${encodeURIComponent(key)}`
}

const FALLBACK_ORIGIN = 'https://tiercache.invalid'

/** The origin (`scheme://host[:port]`) a key's URL starts with, or {@link FALLBACK_ORIGIN}. */
export function originOfKey(key: string): string {
  const afterScheme = key.startsWith('https://') ? 8 : key.startsWith('http://') ? 7 : -1
  if (afterScheme < 0) return FALLBACK_ORIGIN
  let end = afterScheme
  while (end < key.length) {
    const c = key.charCodeAt(end)
    // '/', '?', '#', '|' end the authority (`|` starts a key suffix: variant or identity).
    if (c === 47 || c === 63 || c === 35 || c === 124) break
    end++
  }
  return end > afterScheme ? key.slice(0, end) : FALLBACK_ORIGIN
}

const cacheTagHeader = (tags: string[]): string | undefined => {
  let header = ''
  for (const tag of tags) {
    const next = header ? `${header},${tag}` : tag
    if (next.length > MAX_CACHE_TAG_BYTES) break
    header = next
  }
  return header || undefined
}

/** What {@link EdgeTier.read} found: the record, and the body as a stream when it is large. */
export interface EdgeRead {
  value: Stored
  /** The body, not yet read, when it is longer than `streamAboveBytes` (then `value.body` is empty). */
  stream?: ReadableStream<Uint8Array>
  /** The streamed body's length, when the stored response has one (a body stored with its declared length). */
  length?: number
  /**
   * {@link EdgeTier.readLazy} only: the stored response itself, body unread, for a body within
   * `streamAboveBytes` (then `value.body` is empty): served as it is, or read when the bytes are needed.
   */
  response?: Response
}

/** The edge's metadata field per entry, made once (checked by `fits`, then written by `set`). */
const metaByEntry = new WeakMap<object, ReturnType<typeof encodeEdgeMeta>>()
const formOf = (value: Stored): ReturnType<typeof encodeEdgeMeta> => {
  let form = metaByEntry.get(value)
  if (form === undefined) {
    form = encodeEdgeMeta(value)
    metaByEntry.set(value, form)
  }
  return form
}
/** The metadata field's length, for size checks. */
export const edgeMetaLength = (value: Stored): number => formOf(value).meta.length

export class EdgeTier implements SharedTier {
  readonly name = TierName.Edge
  readonly #config: EdgeTierConfig
  readonly #breaker = new CircuitBreaker({ failures: 3, cooldownMs: 30_000 })
  #cache: Promise<Cache> | undefined

  constructor(config: EdgeTierConfig) {
    this.#config = config
  }

  unavailableReason(now: number): string | undefined {
    if (typeof caches === 'undefined') return 'no-cache-api'
    if (!this.#breaker.allow(now)) return 'disabled-after-errors'
    return undefined
  }

  #open(): Promise<Cache> {
    this.#cache ??=
      this.#config.cacheName === 'default' ? Promise.resolve(caches.default) : caches.open(this.#config.cacheName)
    return this.#cache
  }

  #guard<T>(operation: () => Promise<T>): Promise<T> {
    return this.#breaker.record(operation, this.#config.now)
  }

  /** The record at `key` with its whole body read. */
  async get(key: string): Promise<Stored | undefined> {
    return (await this.#match(key, Number.POSITIVE_INFINITY, false))?.value
  }

  /** Reads `key`; a body longer than `streamAboveBytes` (or of unknown length) comes back unread, as a stream. */
  read(key: string): Promise<EdgeRead | undefined> {
    return this.#match(key, this.#config.streamAboveBytes, false)
  }

  /**
   * Reads `key` without reading any body: a large one comes back as a stream (as {@link read}), a small one
   * as the stored `response`, which an edge hit serves as it is (src/serve.ts `serveEdgeHit`).
   */
  readLazy(key: string): Promise<EdgeRead | undefined> {
    return this.#match(key, this.#config.streamAboveBytes, true)
  }

  #match(key: string, streamAboveBytes: number, lazy: boolean): Promise<EdgeRead | undefined> {
    return this.#guard(async () => {
      const cache = await this.#open()
      const response = await cache.match(edgeUrlFor(key, this.#config.pathPrefix))
      if (!response) return undefined
      // No field: not ours, or written by format version 1 (X-Tiercache-Meta): a miss, refilled from Redis.
      const meta = response.headers.get(EDGE_META_HEADER)
      if (!meta) {
        await response.body?.cancel()
        return undefined
      }
      let value: Stored
      try {
        value = decodeEdgeMeta(meta, response.headers)
      } catch (error) {
        await response.body?.cancel()
        throw error
      }
      if (value.kind === 'vary' || !response.body) {
        await response.body?.cancel()
        return { value }
      }
      const length = response.headers.get('content-length') ?? response.headers.get(EDGE_LENGTH_HEADER)
      // Only a lazy read keeps the entry's fields on the stored response (it is served within this request);
      // anything else gets a plain entry, which may outlive the response (memory, a flight's waiters).
      if (length === null || Number(length) > streamAboveBytes) {
        return { value: { ...value }, stream: response.body, ...(length !== null ? { length: Number(length) } : {}) }
      }
      if (lazy) return { value, response, length: Number(length) }
      return { value: { ...value, body: new Uint8Array(await response.arrayBuffer()) } }
    })
  }

  /** The body of `key` as a stream (a revalidated large entry whose first stream went to a client). */
  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const read = await this.read(key)
    if (read?.stream) return read.stream
    if (read?.value.kind === 'entry') return new Response(read.value.body).body ?? undefined
    return undefined
  }

  /**
   * Whether `value` fits this tier: a body within `maxEntryBytes` and metadata within what a header can
   * carry (Workers cap all response headers at 128 KB; an envelope whose metadata would crowd that out —
   * hundreds of tags or huge headers — stays out of the edge tier rather than failing there).
   */
  fits(value: Stored): boolean {
    return this.fitsBody(value, value.kind === 'entry' ? value.body.byteLength : 0)
  }

  /** {@link fits} for an entry whose body is still streaming: its declared length, when there is one. */
  fitsBody(value: Stored, declaredBytes: number | undefined): boolean {
    return (declaredBytes === undefined || declaredBytes <= this.#config.maxEntryBytes) && edgeMetaLength(value) <= MAX_META_BYTES
  }

  set(key: string, value: Stored, ttlMs: number): Promise<void> {
    return this.#guard(async () => {
      const body = value.kind === 'entry' ? value.body : EMPTY
      const headers = this.#storedHeaders(key, value, ttlMs)
      if (!headers || !this.fits(value)) return
      const cache = await this.#open()
      await cache.put(edgeUrlFor(key, this.#config.pathPrefix), new Response(body, { headers }))
    })
  }

  /**
   * Stores `entry` with a body that is still arriving. The Cache API keeps nothing if the stream errors
   * (a body that breaks off), and a body growing past `maxEntryBytes` is cut off with an error, so only a
   * whole body within the limit is ever stored.
   */
  setStream(key: string, entry: Stored, body: ReadableStream<Uint8Array>, ttlMs: number, declaredBytes?: number): Promise<void> {
    return this.#guard(async () => {
      const headers = this.#storedHeaders(key, entry, ttlMs)
      if (!headers || !this.fitsBody(entry, declaredBytes)) {
        await body.cancel()
        return
      }
      if (declaredBytes !== undefined) headers.set(EDGE_LENGTH_HEADER, String(declaredBytes))
      const cache = await this.#open()
      await cache.put(edgeUrlFor(key, this.#config.pathPrefix), new Response(body.pipeThrough(limitBytes(this.#config.maxEntryBytes)), { headers }))
    })
  }

  /**
   * The stored response's header fields: the entry's own (src/tiers/edge-form.ts), our storage lifetime,
   * the metadata field, purge tags.
   */
  #storedHeaders(key: string, value: Stored, ttlMs: number): Headers | undefined {
    const seconds = Math.floor(ttlMs / 1000)
    if (seconds < 1) return undefined
    const { meta, fields } = formOf(value)
    const headers = new Headers()
    for (const [name, v] of fields) headers.append(name, v)
    // A cache that counts age from `Date` (RFC 9111 §4.2.3, as Miniflare's does) would expire the copy
    // early by the entry's age: the lifetime given counts from the `Date` kept on the stored response.
    const date = fields.find(([name]) => name === 'date')
    const dated = date ? parseHttpDate(date[1]) : undefined
    const age = dated === undefined ? 0 : Math.max(0, Math.floor((this.#config.now() - dated) / 1000))
    headers.set('cache-control', `public, max-age=${seconds + age}`)
    headers.set(EDGE_META_HEADER, meta)
    // Tags for Cloudflare's zone purge: the URL's own tag and the all-entries tag first, so they are
    // never cut by the header's size limit, then the entry's tags.
    const tags = cacheTagHeader([urlTag(urlOfKey(key)), ALL_ENTRIES_TAG, ...(value.kind === 'entry' ? value.tags : [])])
    if (tags) headers.set('cache-tag', tags)
    return headers
  }

  delete(keys: string[]): Promise<void> {
    return this.#guard(async () => {
      const cache = await this.#open()
      await Promise.all(keys.map((key) => cache.delete(edgeUrlFor(key, this.#config.pathPrefix))))
    })
  }
}
