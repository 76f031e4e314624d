/**
 * @module Data values in the shared envelope ({@link CacheEntry}), so every tier stores, sizes, expires and
 * purges them exactly as it does HTTP entries: a value's bytes are the body, its kind and its loader's
 * duration (for early refresh) travel as two headers, its lifetime and stale windows are the entry's, and
 * its purge tags and fill position (fenced fills) are the entry's too.
 */
import type { CacheEntry } from '../entry.ts'
import type { ValueKind } from './value.ts'

/** Header holding a data entry's {@link ValueKind}. */
const KIND_HEADER = 'x-tiercache-data'
/** Header holding how long the loader took, in ms (XFetch's δ). */
const LOAD_MS_HEADER = 'x-tiercache-load-ms'

const KINDS = new Set<string>(['json', 'bytes', 'buffer', 'none'])

/** What a data entry is made from. */
export interface DataEntryParts {
  kind: ValueKind
  body: Uint8Array
  lifetimeMs: number
  swrMs: number
  sieMs: number
  tags: string[]
  purgeSeq: number
  now: number
  /** How long the loader took (0 for `set`). */
  loadMs: number
}

/** A data value as an envelope. A "not found" is a 404 with no body. */
export function toEntry(parts: DataEntryParts): CacheEntry {
  return {
    kind: 'entry',
    status: parts.kind === 'none' ? 404 : 200,
    headers: [
      [KIND_HEADER, parts.kind],
      [LOAD_MS_HEADER, String(Math.round(parts.loadMs))],
    ],
    body: parts.body,
    bornAt: parts.now,
    storedAt: parts.now,
    lifetimeMs: parts.lifetimeMs,
    swrMs: parts.swrMs,
    sieMs: parts.sieMs,
    flags: 0,
    tags: parts.tags,
    purgeSeq: parts.purgeSeq,
  }
}

/** The value kind of a data entry; undefined for anything else (which is then treated as absent). */
export function kindOf(entry: CacheEntry): ValueKind | undefined {
  const kind = entry.headers.find(([name]) => name === KIND_HEADER)?.[1]
  return kind !== undefined && KINDS.has(kind) ? (kind as ValueKind) : undefined
}

/** How long the loader took to produce `entry`, in ms. */
export function loadMsOf(entry: CacheEntry): number {
  const raw = Number(entry.headers.find(([name]) => name === LOAD_MS_HEADER)?.[1])
  return Number.isFinite(raw) && raw > 0 ? raw : 0
}
