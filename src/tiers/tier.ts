/**
 * @module The contract between the stack and its shared tiers. Tiers are dumb: they store and fetch
 * {@link Stored} values under string keys. Ordering, promotion, freshness, timeouts and error
 * suppression live in the stack (`src/stack.ts`). The memory tier is synchronous by type and sits
 * outside this interface (`src/tiers/memory.ts`).
 */
import type { Stored } from '../entry.ts'

/** Tier names as they appear in `Cache-Status` and `Server-Timing`. */
export const TierName = { Memory: 'memory', Edge: 'edge', Redis: 'redis' } as const
export type TierName = (typeof TierName)[keyof typeof TierName]

/** An asynchronous shared tier (edge or Redis). */
export interface SharedTier {
  readonly name: TierName
  /** Why the tier is not in use right now, or undefined when it is. */
  unavailableReason(now: number): string | undefined
  get(key: string): Promise<Stored | undefined>
  set(key: string, value: Stored, ttlMs: number): Promise<void>
  delete(keys: string[]): Promise<void>
}
