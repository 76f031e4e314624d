/**
 * @module Purge records: what one purge said, in the form every isolate matches entries against.
 * Records live in Redis's purge log (a sorted set scored by sequence number) and, once read, in each
 * isolate's window. Matching is by primary key (every variant of a URL), tag, key prefix or everything.
 */
import type { CacheEntry } from '../entry.ts'

/** One purge, as logged. `urls` and `prefixes` are cache keys (scheme://host/path?query). */
export interface PurgeRecord {
  /** Position in the purge log (monotonic, assigned by Redis). */
  seq: number
  /** Redis time of the purge, ms since the epoch. */
  t: number
  urls: string[]
  tags: string[]
  prefixes: string[]
  all: boolean
  /** Soft purge: matching entries turn stale instead of disappearing. */
  soft: boolean
}

/** The URL part of a key (without `|v=` variant or `|u=` identity suffixes). */
export const urlOfKey = (key: string): string => {
  const bar = key.indexOf('|')
  return bar < 0 ? key : key.slice(0, bar)
}

/** Does `record` cover the entry stored under `primaryKey` with `tags`? */
export function recordMatches(record: PurgeRecord, primaryKey: string, tags: readonly string[]): boolean {
  if (record.all) return true
  const url = urlOfKey(primaryKey)
  if (record.urls.includes(url)) return true
  for (const prefix of record.prefixes) if (url.startsWith(prefix)) return true
  if (record.tags.length > 0) for (const tag of tags) if (record.tags.includes(tag)) return true
  return false
}

/** What the purge log says about a stored entry. */
export type Verdict =
  /** No purge since the entry was filled. */
  | 'valid'
  /** A hard purge covers it: treat as absent. */
  | 'purged'
  /** A soft purge covers it: treat as stale. */
  | 'stale'
  /** Filled before the oldest record we know: revalidate before serving. */
  | 'unknown'

/** Index of the first record with a seq above `seq` in `records` (sorted by seq). */
export function firstAfter(records: readonly PurgeRecord[], seq: number): number {
  let low = 0
  let high = records.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (records[mid]!.seq <= seq) low = mid + 1
    else high = mid
  }
  return low
}

/**
 * Judges `entry` (filled at log position `entry.purgeSeq`) against the records after it. Runs on every
 * hit, so only the records after the entry's position are looked at.
 * @param records sorted by seq
 * @param windowStart the lowest seq from which on every record is held; anything filled before it
 *   (a record it should be judged against may be missing) is unknown
 */
export function judge(entry: CacheEntry, primaryKey: string, records: readonly PurgeRecord[], windowStart: number): Verdict {
  let verdict: Verdict = 'valid'
  for (let i = firstAfter(records, entry.purgeSeq); i < records.length; i++) {
    const record = records[i]!
    if (!recordMatches(record, primaryKey, entry.tags)) continue
    if (!record.soft) return 'purged'
    verdict = 'stale'
  }
  if (verdict === 'valid' && entry.purgeSeq < windowStart - 1) return 'unknown'
  return verdict
}

/**
 * The purge tag every per-user entry carries: a purge `{"users": [hash]}` is a purge by this tag, so the
 * Redis tag index, memory eviction and the purge log handle one user's copies with no extra machinery.
 * Never sent to Cloudflare (per-user entries never reach the edge).
 */
export const userTag = (identityHash: string): string => `${USER_TAG_PREFIX}${identityHash}`
export const USER_TAG_PREFIX = 'tiercache-user:'

/**
 * One matcher for a batch of records: does any of them cover a value stored under `primaryKey` with
 * `tags`, filled at `purgeSeq` (−Infinity for values with no position, such as vary indexes)? Evicting a
 * page of records from memory asks this once per stored value, so the records are indexed first
 * (URL and tag → newest seq) instead of being scanned per value.
 */
export function recordsMatcher(records: readonly PurgeRecord[]): (primaryKey: string, tags: readonly string[], purgeSeq: number) => boolean {
  let all = Number.NEGATIVE_INFINITY
  const urls = new Map<string, number>()
  const tagSeqs = new Map<string, number>()
  const prefixes = new Map<string, number>()
  const newest = (map: Map<string, number>, key: string, seq: number) => map.set(key, Math.max(map.get(key) ?? seq, seq))
  for (const r of records) {
    if (r.all) all = Math.max(all, r.seq)
    for (const url of r.urls) newest(urls, url, r.seq)
    for (const tag of r.tags) newest(tagSeqs, tag, r.seq)
    for (const prefix of r.prefixes) newest(prefixes, prefix, r.seq)
  }
  return (primaryKey, tags, purgeSeq) => {
    if (all > purgeSeq) return true
    const url = urlOfKey(primaryKey)
    if ((urls.get(url) ?? Number.NEGATIVE_INFINITY) > purgeSeq) return true
    for (const tag of tags) if ((tagSeqs.get(tag) ?? Number.NEGATIVE_INFINITY) > purgeSeq) return true
    for (const [prefix, seq] of prefixes) if (seq > purgeSeq && url.startsWith(prefix)) return true
    return false
  }
}

/** `Cache-Tag` every edge entry carries, so "purge everything" is one zone purge by tag. */
export const ALL_ENTRIES_TAG = 'tiercache-all'

/**
 * The `Cache-Tag` naming one URL's edge entries (all variants), so a URL purge reaches every data
 * centre through Cloudflare's purge by tag. A 53-bit hash (cyrb53): a collision only purges more.
 */
export function urlTag(url: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return `tiercache-url-${(4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)}`
}
