import { describe, expect, it } from 'vitest'
import { coloViewUrls, decodeView, encodeView, SHARED_TAIL_BYTES, SHARED_TAIL_RECORDS, tailOf, type SharedView } from '../../src/coherence/colo-view.ts'
import type { PurgeRecord } from '../../src/coherence/purge-record.ts'

const LOG = 'https://db.example.upstash.io\ntc:'
const record = (seq: number, url = `https://example.com/${seq}`): PurgeRecord => ({ seq, t: 1_700_000_000_000 + seq, urls: [url], tags: [], prefixes: [], all: false, soft: false })
const view = (over: Partial<SharedView> = {}): SharedView => ({ readAt: 1_700_000_000_000, current: 12, from: 9, records: [record(10), record(12)], ...over })

describe('the shared copy of the purge-log view', () => {
  it('round-trips through its JSON', () => {
    const v = view()
    expect(decodeView(encodeView(v, LOG), LOG)).toEqual(v)
  })

  it('is never taken from another log (another database or prefix shares the zone)', () => {
    expect(decodeView(encodeView(view(), LOG), 'https://db.example.upstash.io\nother:')).toBeUndefined()
    const urls = coloViewUrls(LOG, '/__tiercache')
    expect(urls.view).not.toBe(coloViewUrls('https://db.example.upstash.io\nother:', '/__tiercache').view)
    expect(urls.view).toMatch(/^https:\/\/tiercache\.invalid\/__tiercache\/coherence\/[0-9a-z]+\/view$/)
    expect(urls.marker).toBe(urls.view.replace(/view$/, 'refreshing'))
  })

  it.each([
    ['not JSON', '{"v":1,'],
    ['another version', JSON.stringify({ ...JSON.parse(encodeView(view(), LOG)), v: 2 })],
    ['from after current', encodeView(view({ from: 13, records: [] }), LOG)],
    ['a record outside (from, current]', encodeView(view({ records: [record(9)] }), LOG)],
    ['a record past current', encodeView(view({ records: [record(13)] }), LOG)],
    ['a record without a seq', JSON.stringify({ ...JSON.parse(encodeView(view(), LOG)), records: [{ urls: [] }] })],
    ['readAt not a number', JSON.stringify({ ...JSON.parse(encodeView(view(), LOG)), readAt: '1700000000000' })],
    ['records not a list', JSON.stringify({ ...JSON.parse(encodeView(view(), LOG)), records: {} })],
    ['null', 'null'],
  ])('is ignored when corrupt: %s', (_, text) => {
    expect(decodeView(text, LOG)).toBeUndefined()
  })

  describe('tailOf: what an isolate publishes from its window', () => {
    const records = [3, 4, 5, 7, 8].map((s) => record(s))
    const sizes = records.map(() => 100)

    it('everything held, back to the window start, when it fits', () => {
      expect(tailOf(records, sizes, 3, 8)).toEqual({ from: 2, records })
    })

    it('never records past the position reached (an own purge committed after the read)', () => {
      expect(tailOf(records, sizes, 3, 7)).toEqual({ from: 2, records: records.slice(0, 4) })
    })

    it('an empty window: the copy says only the position', () => {
      expect(tailOf([], [], 9, 8)).toEqual({ from: 8, records: [] })
      expect(tailOf([], [], 0, -1)).toEqual({ from: -1, records: [] })
    })

    it('cut by count: starts after the newest record left out', () => {
      const many = Array.from({ length: SHARED_TAIL_RECORDS + 10 }, (_, i) => record(i + 1))
      const tail = tailOf(many, many.map(() => 10), 1, many.length)
      expect(tail.records).toHaveLength(SHARED_TAIL_RECORDS)
      expect(tail.from).toBe(10)
      expect(tail.records[0]!.seq).toBe(11)
    })

    it('cut by age: records more than the span older than the newest are left out', () => {
      // A record's t is base + seq: a 2 ms span before record 8 keeps 7 and 8 (there is no 6), 3 ms keeps 5 too.
      expect(tailOf(records, sizes, 3, 8, 2)).toEqual({ from: 5, records: records.slice(3) })
      expect(tailOf(records, sizes, 3, 8, 3)).toEqual({ from: 4, records: records.slice(2) })
    })

    it('cut by bytes: a reader behind `from` must follow the log in Redis itself', () => {
      const big = SHARED_TAIL_BYTES / 2
      const tail = tailOf(records, [big, big, big, big, big], 3, 8)
      expect(tail).toEqual({ from: 5, records: records.slice(3) })
      // The newest record alone too large: the copy holds the position only.
      expect(tailOf(records, [1, 1, 1, 1, SHARED_TAIL_BYTES + 1], 3, 8)).toEqual({ from: 8, records: [] })
    })
  })
})
