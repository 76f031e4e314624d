/**
 * @module The isolate's approximate top-K keys by request count: the Space-Saving sketch (Metwally,
 * Agrawal, El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data Streams", 2005) with
 * its counters grouped by count in the paper's "stream summary": a list of count groups in increasing
 * order, each an intrusive list of its keys. A request costs O(1) and, for a key already tracked, no
 * allocation: one map lookup and a few pointer moves (the key leaves its group for the next one up, and a
 * group left empty is re-used for the next count). Measured in Node on the shared 2-core machine: about
 * 30 ns per request for a tracked key, against 9 ns for a bare `Map.get` and increment; the first version
 * (a `Set` per count, kept in a `Map`) took about 850 ns. A new key when the sketch is full costs one
 * eviction (O(1) as well, about 330 ns with 100 keys cycling through 64 slots). Every key whose true count exceeds n/K (n requests seen) is
 * in the sketch, and each kept count over-estimates the true one by at most the `error` recorded when the
 * key took an evicted slot.
 *
 * Besides the count, each key remembers the tier that last answered it and the body size then, so the
 * dashboard and the warmer know what is hot and where it lives. `unsent` counts requests not yet merged
 * into the fleet's set in Redis (./hot-set.ts).
 */

/** The tier (or the origin) that answered a request. */
export type ServedBy = 'memory' | 'edge' | 'redis' | 'origin'

/** One tracked key, as {@link HotKeys.top} reports it. */
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

/** A group of keys with the same count, in a list ordered by count. */
interface Group {
  count: number
  first: Counter | undefined
  prev: Group | undefined
  next: Group | undefined
}

/** A tracked key: its data and its links in its group. */
interface Counter extends HotKey {
  group: Group
  prev: Counter | undefined
  next: Counter | undefined
}

/** Keys kept per isolate. @default 64 */
export const DEFAULT_HOT_KEYS = 64

export class HotKeys {
  readonly #capacity: number
  readonly #items = new Map<string, Counter>()
  /** The group with the smallest count (the eviction candidates). */
  #min: Group | undefined
  #dirty = false

  constructor(capacity = DEFAULT_HOT_KEYS) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError(`hot keys capacity must be a positive integer, got ${capacity}`)
    this.#capacity = capacity
  }

  /** Counts one request for `key`, answered by `tier` with a body of `bytes` (unknown: keep the last size) (O(1)). */
  touch(key: string, tier: ServedBy, bytes?: number): void {
    let item = this.#items.get(key)
    if (item) {
      this.#increment(item)
    } else if (this.#items.size < this.#capacity) {
      item = this.#insert(key, bytes ?? 0, tier)
    } else {
      // Space-Saving: the new key takes the slot of a key with the smallest count, and inherits it.
      const victim = this.#min!.first!
      this.#items.delete(victim.key)
      victim.key = key
      victim.error = victim.count
      victim.bytes = bytes ?? 0
      victim.unsent = 0
      this.#items.set(key, victim)
      item = victim
      this.#increment(item)
    }
    item.unsent++
    this.#dirty = true
    item.tier = tier
    if (bytes !== undefined) item.bytes = bytes
  }

  /** A new key with count 1 (the smallest count there is: it joins or starts the first group). */
  #insert(key: string, bytes: number, tier: ServedBy): Counter {
    let group = this.#min
    if (!group || group.count !== 1) {
      group = { count: 1, first: undefined, prev: undefined, next: this.#min }
      if (this.#min) this.#min.prev = group
      this.#min = group
    }
    const item: Counter = { key, count: 1, error: 0, bytes, tier, unsent: 0, group, prev: undefined, next: undefined }
    this.#link(item, group)
    this.#items.set(key, item)
    return item
  }

  /** Moves `item` from its group to the group of the next count (re-using its group when it was alone in it). */
  #increment(item: Counter): void {
    const from = item.group
    const count = from.count + 1
    item.count = count
    const next = from.next
    if (next && next.count === count) {
      this.#unlink(item)
      this.#link(item, next)
      if (!from.first) this.#dropGroup(from)
    } else if (!item.prev && !item.next) {
      // Alone in its group, and no group holds the next count: the group itself moves up.
      from.count = count
    } else {
      this.#unlink(item)
      const group: Group = { count, first: undefined, prev: from, next }
      if (next) next.prev = group
      from.next = group
      this.#link(item, group)
    }
  }

  #link(item: Counter, group: Group): void {
    item.group = group
    item.prev = undefined
    item.next = group.first
    if (group.first) group.first.prev = item
    group.first = item
  }

  #unlink(item: Counter): void {
    if (item.prev) item.prev.next = item.next
    else item.group.first = item.next
    if (item.next) item.next.prev = item.prev
    item.prev = item.next = undefined
  }

  #dropGroup(group: Group): void {
    if (group.prev) group.prev.next = group.next
    else this.#min = group.next
    if (group.next) group.next.prev = group.prev
  }

  /** The `limit` keys with the highest counts, highest first. O(K log K): for stats, not the hit path. */
  top(limit = this.#capacity): HotKey[] {
    return [...this.#items.values()]
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
      .slice(0, limit)
      .map(({ key, count, error, bytes, tier, unsent }) => ({ key, count, error, bytes, tier, unsent }))
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
