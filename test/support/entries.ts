/**
 * A stored entry for tests of the tiers and the purge log: 200, no headers, a 60 s lifetime, born at 0;
 * every field can be overridden.
 */
import type { CacheEntry } from '../../src/entry.ts'

export const testEntry = (fields: Partial<CacheEntry> = {}): CacheEntry => ({
  kind: 'entry',
  status: 200,
  headers: [],
  body: new Uint8Array(),
  bornAt: 0,
  storedAt: 0,
  lifetimeMs: 60_000,
  swrMs: 0,
  sieMs: 0,
  flags: 0,
  tags: [],
  purgeSeq: 0,
  ...fields,
})
