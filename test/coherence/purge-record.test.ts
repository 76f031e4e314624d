import { describe, expect, it } from 'vitest'
import type { CacheEntry } from '../../src/entry.ts'
import { firstAfter, judge, recordMatches, recordsMatcher, type PurgeRecord } from '../../src/coherence/purge-record.ts'
import { testEntry } from '../support/entries.ts'

const record = (seq: number, scope: Partial<PurgeRecord> = {}): PurgeRecord => ({
  seq,
  t: 1_000 + seq,
  urls: [],
  tags: [],
  prefixes: [],
  all: false,
  soft: false,
  ...scope,
})

const entry = (purgeSeq: number, tags: string[] = []): CacheEntry => testEntry({ purgeSeq, tags })

const URL_A = 'https://example.com/a'
const URL_B = 'https://example.com/b'

describe('firstAfter', () => {
  const records = [10, 11, 12, 20, 30].map((seq) => record(seq))
  it.each([
    [0, 0],
    [9, 0],
    [10, 1],
    [11, 2],
    [15, 3],
    [20, 4],
    [29, 4],
    [30, 5],
    [99, 5],
  ])('after seq %i the first record is at index %i', (seq, index) => {
    expect(firstAfter(records, seq)).toBe(index)
  })
  it('is 0 for no records', () => expect(firstAfter([], 5)).toBe(0))
})

describe('judge', () => {
  const records = [record(10, { urls: [URL_B] }), record(11, { tags: ['t'], soft: true }), record(12, { urls: [URL_A] })]

  it('a purge after the fill refuses the entry, under any of its variants', () => {
    expect(judge(entry(11), URL_A, records, 10)).toBe('purged')
    expect(judge(entry(11), `${URL_A}|v=abc`, records, 10)).toBe('purged')
  })
  it('only records after the fill count', () => {
    expect(judge(entry(12), URL_A, records, 10)).toBe('valid')
    expect(judge(entry(10), URL_B, records, 10)).toBe('valid')
    expect(judge(entry(9), URL_B, records, 10)).toBe('purged')
  })
  it('a soft purge makes it stale, a later hard one purged', () => {
    expect(judge(entry(10, ['t']), URL_B, records, 10)).toBe('stale')
    expect(judge(entry(10, ['t']), URL_A, records, 10)).toBe('purged')
  })
  it('an entry filled before the window is unknown (revalidated), unless a record covers it', () => {
    // Window starts at 10: records from 10 on are all held; an entry filled at 9 needs only those.
    expect(judge(entry(9), 'https://example.com/c', records, 10)).toBe('valid')
    expect(judge(entry(8), 'https://example.com/c', records, 10)).toBe('unknown')
    expect(judge(entry(8), URL_A, records, 10)).toBe('purged')
    expect(judge(entry(0), 'https://example.com/c', [], 1)).toBe('valid')
    expect(judge(entry(0), 'https://example.com/c', [], 2)).toBe('unknown')
  })
  it('matches prefixes and "everything"', () => {
    expect(judge(entry(1), URL_A, [record(2, { prefixes: ['https://example.com/'] })], 0)).toBe('purged')
    expect(judge(entry(1), URL_A, [record(2, { prefixes: ['https://example.com/b'] })], 0)).toBe('valid')
    expect(judge(entry(1), URL_A, [record(2, { all: true })], 0)).toBe('purged')
  })
})

describe('recordsMatcher', () => {
  const records = [
    record(5, { urls: [URL_A] }),
    record(7, { tags: ['x', 'y'] }),
    record(9, { prefixes: ['https://example.com/p/'] }),
    record(12, { urls: [URL_A], tags: ['y'] }),
  ]
  const covers = recordsMatcher(records)

  it('agrees with matching record by record, for every fill position', () => {
    const keys = [URL_A, `${URL_A}|v=1`, URL_B, 'https://example.com/p/1', 'https://example.com/q']
    const tagSets = [[], ['x'], ['y'], ['z'], ['x', 'z']]
    for (const key of keys) {
      for (const tags of tagSets) {
        for (let purgeSeq = 0; purgeSeq <= 13; purgeSeq++) {
          const expected = records.some((r) => r.seq > purgeSeq && recordMatches(r, key, tags))
          expect(covers(key, tags, purgeSeq), `${key} ${tags.join()} @${purgeSeq}`).toBe(expected)
        }
      }
    }
  })
  it('a value with no fill position (a vary index) is covered by any record for its URL', () => {
    expect(covers(URL_A, [], Number.NEGATIVE_INFINITY)).toBe(true)
    expect(covers(URL_B, [], Number.NEGATIVE_INFINITY)).toBe(false)
  })
  it('"everything" covers all values filled before it', () => {
    const all = recordsMatcher([record(3, { all: true })])
    expect(all('https://any.example/x', [], 2)).toBe(true)
    expect(all('https://any.example/x', [], 3)).toBe(false)
  })
})
