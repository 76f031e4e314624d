/**
 * @module The demo origin's only state: a small in-memory item collection with per-item versions.
 *
 * Versions never go backwards for an id, not across deletes and not across {@link ItemStore.reset}: the item
 * ETag is `"<id>-v<version>"`, and a repeated ETag for different content would let a cache revalidate a stale
 * body with a 304 (RFC 9110 §8.8.3: a strong validator changes whenever the representation does).
 */

/** One stored item as the API returns it (plus the serial of the response). */
export interface Item {
  id: string
  version: number
  body: string
}

/** Items present at start and after a reset. */
export const SEED_ITEMS: ReadonlyArray<Pick<Item, 'id' | 'body'>> = [
  { id: '1', body: 'first item' },
  { id: '2', body: 'second item' },
  { id: '3', body: 'third item' },
]

/**
 * In-memory items. Changes made directly through this class skip the purge webhook, which is how a test
 * simulates an origin change the cache was not told about.
 */
export class ItemStore {
  readonly #items = new Map<string, Item>()
  /** Last version ever issued per id, kept after deletes so versions stay unique. */
  readonly #versions = new Map<string, number>()
  readonly #seed: ReadonlyArray<Pick<Item, 'id' | 'body'>>

  constructor(seed: ReadonlyArray<Pick<Item, 'id' | 'body'>> = SEED_ITEMS) {
    this.#seed = seed
    this.reset()
  }

  get(id: string): Item | undefined {
    const item = this.#items.get(id)
    return item && { ...item }
  }

  list(): Item[] {
    return [...this.#items.values()].map((item) => ({ ...item }))
  }

  /** Creates or replaces `id`; `created` tells PUT whether to answer 201 (RFC 9110 §9.3.4). */
  put(id: string, body: string): { item: Item; created: boolean } {
    const created = !this.#items.has(id)
    return { item: this.#write(id, body), created }
  }

  /** Changes an existing item's body; undefined when it does not exist. */
  patch(id: string, body: string): Item | undefined {
    return this.#items.has(id) ? this.#write(id, body) : undefined
  }

  /** Removes `id`, returning it as it was (its version is burnt); undefined when absent. */
  delete(id: string): Item | undefined {
    const item = this.#items.get(id)
    if (!item) return undefined
    this.#items.delete(id)
    this.#bump(id)
    return { ...item }
  }

  /** Adds an item under the next free numeric id. */
  create(body: string): Item {
    let n = this.#items.size + 1
    while (this.#items.has(String(n))) n++
    return this.#write(String(n), body)
  }

  /**
   * Restores the seed content. Unchanged seed items keep their version; anything else that differs gets a
   * fresh one, and items beyond the seed are removed (their versions are remembered).
   */
  reset(): void {
    const seedIds = new Set(this.#seed.map((s) => s.id))
    for (const id of [...this.#items.keys()]) if (!seedIds.has(id)) this.delete(id)
    for (const { id, body } of this.#seed) {
      if (this.#items.get(id)?.body !== body) this.#write(id, body)
    }
  }

  #bump(id: string): number {
    const version = (this.#versions.get(id) ?? 0) + 1
    this.#versions.set(id, version)
    return version
  }

  #write(id: string, body: string): Item {
    const item = { id, version: this.#bump(id), body }
    this.#items.set(id, item)
    return { ...item }
  }
}
