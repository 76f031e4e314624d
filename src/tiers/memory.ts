/**
 * @module L1: the per-isolate memory tier. A byte-bounded LRU over a `Map` (insertion order is recency:
 * a hit deletes and re-inserts), synchronous by type, with expiry checked on read and no timers (Workers
 * isolates have no background work, and their clocks only move after I/O, so `now` is always passed in).
 *
 * Admission is plain LRU plus a per-entry cap (`maxEntryBytes`), which is the rule that matters: it stops
 * one large body from flushing many small hot ones. A TinyLFU-style frequency sketch was considered and left
 * out: L1 is small, short-lived (isolates are recycled) and backed by the edge tier one local call away, so
 * its misses are cheap, while a doorkeeper would make every first fill of a hot key miss L1 once more and add
 * a structure to size, age and test. Revisit if the benchmark shows scans evicting a Zipf head.
 *
 * Values are plain data ({@link Stored}), never `Response` objects or promises: workerd forbids using one
 * request's I/O objects from another. Returned values are shared between requests; treat them as read-only.
 */
import type { Stored } from '../entry.ts'
import { entrySize } from '../entry.ts'
import { ConfigError } from '../errors.ts'

/** Bounds of a {@link MemoryTier}; both are required so an unbounded L1 cannot be built. */
export interface MemoryTierLimits {
  /** Byte budget (as measured by `entrySize`); the tier never holds more. */
  maxBytes: number
  /** Largest single entry admitted; must not exceed `maxBytes`. */
  maxEntryBytes: number
}

/** Counters since the tier was created (not reset by `clear`), for the stats endpoint and tests. */
export interface MemoryTierStats {
  /** Entries currently held (including expired ones not yet read). */
  entries: number
  /** Bytes currently held. */
  bytes: number
  /** Highest `bytes` ever reached; ≤ `maxBytes` by construction. */
  peakBytes: number
  maxBytes: number
  /** `get` calls that returned a value. */
  hits: number
  /** `get` calls that returned nothing (absent or expired). */
  misses: number
  /** Live entries removed to make room. */
  evictions: number
  /** Expired entries removed (on read, or when reached by eviction). */
  expirations: number
}

interface Slot {
  value: Stored
  size: number
  expiresAt: number
}

/**
 * The per-isolate L1 store.
 * @example
 * const l1 = new MemoryTier({ maxBytes: 16 * 1024 * 1024, maxEntryBytes: 1024 * 1024 })
 * l1.set(key, entry, storageTtl(entry, now, keepMs), now)
 * const hit = l1.get(key, now)
 */
export class MemoryTier {
  readonly #maxBytes: number
  readonly #maxEntryBytes: number
  /** Least recently used first. */
  readonly #slots = new Map<string, Slot>()
  #bytes = 0
  #peakBytes = 0
  #hits = 0
  #misses = 0
  #evictions = 0
  #expirations = 0

  /** @throws {ConfigError} if a bound is not a positive integer or `maxEntryBytes > maxBytes`. */
  constructor(options: MemoryTierLimits) {
    const { maxBytes, maxEntryBytes } = options
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new ConfigError('memory.maxBytes must be a positive integer')
    }
    if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes <= 0) {
      throw new ConfigError('memory.maxEntryBytes must be a positive integer')
    }
    if (maxEntryBytes > maxBytes) throw new ConfigError('memory.maxEntryBytes cannot exceed memory.maxBytes')
    this.#maxBytes = maxBytes
    this.#maxEntryBytes = maxEntryBytes
  }

  /**
   * The value at `key` if present and not expired at `now`; a hit makes it the most recently used. An
   * expired entry is removed here and counts as a miss (lazy expiry: there are no timers).
   */
  get(key: string, now: number): Stored | undefined {
    const slot = this.#slots.get(key)
    if (slot === undefined) {
      this.#misses++
      return undefined
    }
    this.#slots.delete(key)
    if (now >= slot.expiresAt) {
      this.#bytes -= slot.size
      this.#expirations++
      this.#misses++
      return undefined
    }
    this.#slots.set(key, slot)
    this.#hits++
    return slot.value
  }

  /** Whether a body of `bytes` could be admitted at all (the per-entry cap, before headers and key). */
  admitsBytes(bytes: number): boolean {
    return bytes <= this.#maxEntryBytes
  }

  /** Whether `value`, stored under a key of `keyLength` characters, is within the per-entry cap. */
  fits(value: Stored, keyLength: number): boolean {
    return entrySize(value, ' '.repeat(keyLength)) <= this.#maxEntryBytes
  }

  /**
   * Stores `value` for `ttlMs` from `now`, evicting least recently used entries until it fits. Returns false
   * (and stores nothing) when `ttlMs ≤ 0` or the entry is larger than `maxEntryBytes`; any older value at
   * `key` is removed either way, so L1 never keeps serving a version the caller has replaced.
   */
  set(key: string, value: Stored, ttlMs: number, now: number): boolean {
    this.delete(key)
    if (!(ttlMs > 0)) return false
    const size = entrySize(value, key)
    if (size > this.#maxEntryBytes) return false
    for (const [oldest, slot] of this.#slots) {
      if (this.#bytes + size <= this.#maxBytes) break
      this.#slots.delete(oldest)
      this.#bytes -= slot.size
      if (now >= slot.expiresAt) this.#expirations++
      else this.#evictions++
    }
    this.#slots.set(key, { value, size, expiresAt: now + ttlMs })
    this.#bytes += size
    if (this.#bytes > this.#peakBytes) this.#peakBytes = this.#bytes
    return true
  }

  /** Removes `key`; true if something was there (expired or not). */
  delete(key: string): boolean {
    const slot = this.#slots.get(key)
    if (slot === undefined) return false
    this.#slots.delete(key)
    this.#bytes -= slot.size
    return true
  }

  /**
   * Removes every entry the predicate selects (purge by tag, URL prefix or purge time) and returns how many.
   * O(entries), which is fine for a purge: L1 holds at most a few thousand entries.
   */
  deleteWhere(predicate: (key: string, value: Stored) => boolean): number {
    let removed = 0
    // Deleting the current entry while iterating a Map is well defined (ECMA-262 §24.1.3.5).
    for (const [key, slot] of this.#slots) {
      if (!predicate(key, slot.value)) continue
      this.#slots.delete(key)
      this.#bytes -= slot.size
      removed++
    }
    return removed
  }

  /** Removes everything (purge all). Counters and `peakBytes` are kept: they describe the isolate's life. */
  clear(): void {
    this.#slots.clear()
    this.#bytes = 0
  }

  /** A snapshot of sizes and counters. */
  stats(): MemoryTierStats {
    return {
      entries: this.#slots.size,
      bytes: this.#bytes,
      peakBytes: this.#peakBytes,
      maxBytes: this.#maxBytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
    }
  }
}
