/**
 * @module The isolate's approximate top-K keys by request count: the Space-Saving sketch (Metwally,
 * Agrawal, El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data Streams", 2005) with
 * its counters grouped by count ("stream summary"), so a request costs O(1): one map lookup and moving
 * the key from its count's group to the next. Every key whose true count exceeds n/K (n requests seen) is
 * in the sketch, and each kept count over-estimates the true one by at most the `error` recorded when the
 * key took an evicted slot.
 *
 * Besides the count, each key remembers the tier that last answered it and the body size then, so the
 * dashboard and the warmer know what is hot and where it lives. `unsent` counts requests not yet merged
 * into the fleet's set in Redis (./hot-set.ts).
 */

/** The tier (or the origin) that answered a request. */
export type ServedBy = 'memory' | 'edge' | 'redis' | 'origin'

/** One tracked key. */
export interface HotKey {
  key: string
  /** Requests counted (an over-estimate by at most `error`). */
  count: number
  /** The count the key inherited when it took an evicted key's slot. */
  error: number
  /** Body bytes of the last answer. */
  bytes: number
  tier: ServedBy
  /** Requests since the last merge into Redis. */
  unsent: number
}

/** Keys kept per isolate. @default 64 */
export const DEFAULT_HOT_KEYS = 64

export class HotKeys {
  readonly #capacity: number
  readonly #items = new Map<string, HotKey>()
  /** Keys grouped by their count; `#min` is the smallest count with a group. */
  readonly #byCount = new Map<number, Set<HotKey>>()
  #min = 0
  #dirty = false

  constructor(capacity = DEFAULT_HOT_KEYS) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`hot keys capacity must be a positive integer, got ${capacity}`)
    this.#capacity = capacity
  }

  /** Counts one request for `key`, answered by `tier` with a body of `bytes` (unknown: keep the last size) (O(1)). */
  touch(key: string, tier: ServedBy, bytes?: number): void {
    let item = this.#items.get(key)
    if (item) {
      this.#move(item, item.count + 1)
    } else if (this.#items.size < this.#capacity) {
      item = { key, count: 0, error: 0, bytes: bytes ?? 0, tier, unsent: 0 }
      this.#items.set(key, item)
      this.#move(item, 1)
    } else {
      // Space-Saving: the new key takes the slot of a key with the smallest count, and inherits it.
      const victim = this.#byCount.get(this.#min)!.values().next().value as HotKey
      this.#items.delete(victim.key)
      item = victim
      const inherited = victim.count
      Object.assign(item, { key, error: inherited, bytes: bytes ?? 0, tier, unsent: 0 })
      this.#items.set(key, item)
      this.#move(item, inherited + 1)
    }
    item.unsent++
    this.#dirty = true
    item.tier = tier
    if (bytes !== undefined) item.bytes = bytes
  }

  #move(item: HotKey, count: number): void {
    const from = this.#byCount.get(item.count)
    if (from) {
      from.delete(item)
      if (from.size === 0) {
        this.#byCount.delete(item.count)
        // The item moved up by one, and no key had a smaller count: the minimum is the new count.
        if (this.#min === item.count) this.#min = count
      }
    }
    // A new key starts at 1, the smallest count there is.
    else this.#min = count
    item.count = count
    let to = this.#byCount.get(count)
    if (!to) this.#byCount.set(count, (to = new Set()))
    to.add(item)
  }

  /** The `limit` keys with the highest counts, highest first. O(K log K): for stats, not the hit path. */
  top(limit = this.#capacity): HotKey[] {
    return [...this.#items.values()].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)).slice(0, limit).map((item) => ({ ...item }))
  }

  /** Whether any request has not been merged into Redis yet. */
  get hasUnsent(): boolean {
    return this.#dirty
  }

  /** Takes the counts not yet merged (and marks them sent). */
  takeUnsent(): Array<Pick<HotKey, 'key' | 'bytes' | 'tier'> & { count: number }> {
    const out: Array<Pick<HotKey, 'key' | 'bytes' | 'tier'> & { count: number }> = []
    for (const item of this.#items.values()) {
      if (item.unsent === 0) continue
      out.push({ key: item.key, count: item.unsent, bytes: item.bytes, tier: item.tier })
      item.unsent = 0
    }
    this.#dirty = false
    return out
  }

  get size(): number {
    return this.#items.size
  }
}
