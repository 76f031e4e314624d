import { describe, expect, it } from 'vitest'
import type { Classification, FailedTest, ScopeScore } from '../../../scripts/conformance/classify.ts'
import { splitFailures } from '../../../scripts/conformance/deliberate.ts'
import { compareWithFloor } from '../../../scripts/conformance/floor.ts'
import { markdownTable, messageOf, renderReport, scoreTable, type ReportInput } from '../../../scripts/conformance/report.ts'

const failed = (id: string, extra: Partial<FailedTest> = {}): FailedTest => ({
  scope: 'shared-cache',
  kind: 'required',
  result: 'fail',
  id,
  name: `${id} test`,
  outcome: ['Assertion', `Response 2 of ${id} does not come from cache`],
  failedDependencies: [],
  ...extra,
})

const score = (counts: ScopeScore['counts'], totals: ScopeScore['totals'], failures: FailedTest[] = []): ScopeScore => ({
  counts,
  totals,
  total: totals.required + totals.optimal + totals.check,
  failed: failures,
})

const tiercache: Classification = {
  'shared-cache': score(
    { required: { pass: 136, fail: 2, setup_fail: 8, dependency_fail: 4 }, optimal: { pass: 69, optional_fail: 21, setup_fail: 8 }, check: { yes: 47, no: 31 } },
    { required: 150, optimal: 98, check: 93 },
    [failed('freshness-expires-invalid-multiple-spaces'), failed('headers-store-Set-Cookie', { result: 'setup_fail', outcome: ['Setup', 'Response 2 does not come from cache'] })]
  ),
  'cdn-cache-control': score({ required: { pass: 8, fail: 2 }, optimal: { pass: 7 }, check: { yes: 5, no: 2 } }, { required: 10, optimal: 7, check: 7 }, [
    failed('cdn-cc-invalid-sh-type-unknown', { scope: 'cdn-cache-control' }),
  ]),
}

const published: Classification = {
  'shared-cache': score({ required: { pass: 132, fail: 15, setup_fail: 3 }, optimal: { pass: 70, optional_fail: 22, dependency_fail: 6 }, check: { yes: 44, no: 38 } }, { required: 150, optimal: 98, check: 93 }),
  'cdn-cache-control': score({ required: { fail: 4, dependency_fail: 6 }, optimal: { optional_fail: 3, untested: 4 }, check: { yes: 1 } }, { required: 10, optimal: 7, check: 7 }),
}

describe('markdownTable', () => {
  it('pads every column to its widest cell, numbers right-aligned', () => {
    expect(markdownTable(['name', 'n'], [['a', '1'], ['longer', '100']])).toBe(
      ['| name   |   n |', '|--------|----:|', '| a      |   1 |', '| longer | 100 |'].join('\n')
    )
  })
})

describe('scoreTable', () => {
  it('shows pass / fail / not scored per kind and scope, one row per implementation', () => {
    const lines = scoreTable([
      { label: 'tiercache', classification: tiercache },
      { label: 'trafficserver', classification: published },
    ]).split('\n')
    expect(lines[0]).toMatch(/required \(150\) pass \/ fail \/ n\.s\..*optional \(98\).*checks \(93\).*CDN-CC required \(10\).*CDN-CC optional \(7\)/)
    const cells = (line: string) => line.split('|').map((c) => c.trim()).filter(Boolean)
    expect(cells(lines[2]!)).toEqual(['tiercache', '136 / 2 / 12', '69 / 21 / 8', '47 / 31', '8 / 2 / 0', '7 / 0 / 0'])
    expect(cells(lines[3]!)).toEqual(['trafficserver', '132 / 15 / 3', '70 / 22 / 6', '44 / 38', '0 / 4 / 6', '0 / 3 / 4'])
  })
})

describe('messageOf', () => {
  it('joins the recorded error name and message', () => {
    expect(messageOf(failed('x'))).toBe('Assertion: Response 2 of x does not come from cache')
  })

  it('names the dependencies of a test that was not scored because of them', () => {
    expect(messageOf(failed('x', { result: 'dependency_fail', failedDependencies: ['a', 'b'], outcome: true }))).toBe('depends on a, b, which did not pass')
  })

  it('says when a test did not run', () => {
    expect(messageOf(failed('x', { result: 'untested', outcome: undefined }))).toBe('not run')
  })
})

describe('renderReport', () => {
  const deliberate = { 'headers-store-Set-Cookie': 'Set-Cookie is never stored (README "How it decides").', 'other-cookie': 'Cookie is a credential.' }
  const input: ReportInput = {
    startedAt: '2026-12-01T00:00:00.000Z',
    rows: [
      { label: 'tiercache', classification: tiercache },
      { label: 'trafficserver', classification: published },
    ],
    summaryLines: ['shared-cache: 205 passed …  [tiercache]', 'cdn-cache-control: 15 passed …  [tiercache]'],
    summarizeNote: 'Identical to summarize.mjs.',
    failures: {
      'shared-cache': splitFailures(tiercache['shared-cache'].failed, deliberate),
      'cdn-cache-control': splitFailures(tiercache['cdn-cache-control'].failed, deliberate),
    },
    staleDeliberate: splitFailures([...tiercache['shared-cache'].failed, ...tiercache['cdn-cache-control'].failed], deliberate).stale,
    floor: compareWithFloor(
      { requiredPass: 135, optionalPass: 69, cdnRequiredPass: 8, cdnOptionalPass: 7, maxNotScored: 20 },
      { requiredPass: 136, optionalPass: 69, cdnRequiredPass: 8, cdnOptionalPass: 7, maxNotScored: 20 }
    ),
    notes: ['Suite: x.'],
  }
  const report = renderReport(input)
  const section = (title: string) => report.split('\n## ').find((s) => s.startsWith(title)) ?? ''

  it('lists the other failures per scope with their messages, without the deliberate ones', () => {
    const shared = section('Failing or not scored: shared cache')
    expect(shared).toContain('(1; 1 deliberate, listed below)')
    expect(shared).toContain('- `freshness-expires-invalid-multiple-spaces` (required, fail): Assertion: Response 2 of freshness-expires-invalid-multiple-spaces')
    expect(shared).not.toContain('headers-store-Set-Cookie')
    expect(section('Failing or not scored: CDN-Cache-Control')).toContain('`cdn-cc-invalid-sh-type-unknown`')
  })

  it('lists the deliberate differences apart, with their reasons', () => {
    const apart = section('Known failures')
    expect(apart).toContain('(1;')
    expect(apart).toContain('- `headers-store-Set-Cookie` (required, setup_fail): Setup: Response 2 does not come from cache')
    expect(apart).toContain('  - why: Set-Cookie is never stored')
  })

  it('flags deliberate entries that no longer fail', () => {
    expect(report).toContain('Listed as deliberate but did not fail')
    expect(report).toContain('- `other-cookie`')
  })

  it('shows the floor check with the dropped figure marked', () => {
    const floor = section('Floor')
    expect(floor).toMatch(/shared-cache required passed\s+\|\s+135 \|\s+136 \| DROPPED \|/)
    expect(floor).toMatch(/shared-cache optional passed\s+\|\s+69 \|\s+69 \|\s+ok \|/)
  })

  it('quotes the summarize.mjs lines verbatim', () => {
    expect(report).toContain('```\nshared-cache: 205 passed …  [tiercache]\ncdn-cache-control: 15 passed …  [tiercache]\n```')
  })
})
