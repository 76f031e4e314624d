import { describe, expect, it } from 'vitest'
import type { FileCoverageData, Range } from 'istanbul-lib-coverage'
import { addCounts, matchItems, projectOnto, zeroCounts } from '../../../scripts/coverage/project.ts'

const EOL = Infinity
// `null` is how JSON writes an end column "at end of line" (Infinity in memory); the types say number.
const at = (line: number, column: number, endLine: number, endColumn: number | null): Range => ({
  start: { line, column },
  end: { line: endLine, column: endColumn as number },
})

describe('matchItems', () => {
  it('pairs exact locations, treating null and Infinity end columns as the same end of line', () => {
    expect(matchItems([{ loc: at(3, 2, 3, null) }], [{ loc: at(3, 2, 3, EOL) }])).toEqual([0])
  })

  it('pairs `const f = () => …` (declarator start) with the arrow start of the same statement', () => {
    // const isToken = (value) => TOKEN.test(value): Node starts at `isToken`, the bundle at `(value)`.
    const canonical = [{ loc: at(14, 13, 14, EOL) }, { loc: at(14, 47, 14, EOL) }]
    const bundle = [{ loc: at(14, 47, 14, EOL) }, { loc: at(14, 23, 14, EOL) }]
    // The body pairs exactly first, so the declarator gets the arrow, not the body.
    expect(matchItems(canonical, bundle)).toEqual([1, 0])
  })

  it('pairs an `else if` the bundle maps to the end of the previous line', () => {
    expect(matchItems([{ loc: at(286, 11, 286, EOL) }], [{ loc: at(285, 71, 286, EOL) }])).toEqual([0])
  })

  it('pairs a leftover on the same lines: `for (const x of xs)` started at `const` on one side, at `for` on the other', () => {
    const canonical = [{ loc: at(34, 35, 34, 95) }, { loc: at(34, 54, 34, 95) }]
    const bundle = [{ loc: at(34, 54, 34, EOL) }, { loc: at(34, 30, 34, EOL) }]
    expect(matchItems(canonical, bundle)).toEqual([1, 0])
  })

  it('takes each counterpart once and never pairs branches of another type or arity', () => {
    const canonical = [
      { loc: at(10, 4, 10, 20), kind: 'cond-expr/2' },
      { loc: at(10, 4, 10, 20), kind: 'if/2' },
    ]
    expect(matchItems(canonical, [{ loc: at(10, 4, 10, 20), kind: 'if/2' }])).toEqual([undefined, 0])
    expect(matchItems([{ loc: at(1, 0, 1, 5) }, { loc: at(1, 0, 1, 5) }], [{ loc: at(1, 0, 1, 5) }])).toEqual([0, undefined])
  })

  it('leaves unrelated items unpaired', () => {
    expect(matchItems([{ loc: at(5, 0, 6, 1) }], [{ loc: at(8, 0, 9, 1) }])).toEqual([undefined])
  })
})

const file = (counts: { s: number[]; f: number[]; b: number[][] }, shift = 0): FileCoverageData => ({
  path: '/p/src/x.ts',
  statementMap: { 0: at(1, 0 + shift, 1, 10), 1: at(2, 2, 2, null), 2: at(3, 2, 3, 9) },
  fnMap: {
    0: { name: 'f', decl: at(1, 9, 1, 10), loc: at(1, 12, 4, 1), line: 1 },
    1: { name: 'shaken', decl: at(6, 9, 6, 15), loc: at(6, 18, 6, 30), line: 6 },
  },
  branchMap: { 0: { type: 'if', line: 2, loc: at(2, 2, 2, 20), locations: [at(2, 2, 2, 20), at(2, 2, 2, 20)] } },
  s: Object.fromEntries(counts.s.map((n, i) => [i, n])),
  f: Object.fromEntries(counts.f.map((n, i) => [i, n])),
  b: Object.fromEntries(counts.b.map((n, i) => [i, n])),
})

describe('projectOnto', () => {
  it("puts the other side's counts on the canonical maps and zero where it has no counterpart", () => {
    const canonical = file({ s: [1, 0, 0], f: [0, 0], b: [[0, 0]] })
    // The bundle has no `shaken` function (esbuild dropped it) and one extra covered statement.
    const bundle: FileCoverageData = {
      ...file({ s: [1, 3, 2], f: [3, 0], b: [[2, 1]] }),
      fnMap: { 0: { name: 'f', decl: at(1, 9, 1, 10), loc: at(1, 12, 4, 1), line: 1 } },
      f: { 0: 3 },
      statementMap: { ...file({ s: [], f: [], b: [] }).statementMap, 3: at(9, 0, 12, 1) },
      s: { 0: 1, 1: 3, 2: 2, 3: 1 },
    }
    const { data, stats } = projectOnto(canonical, bundle)
    expect(data.statementMap).toBe(canonical.statementMap)
    expect(data.s).toEqual({ 0: 1, 1: 3, 2: 2 })
    expect(data.f).toEqual({ 0: 3, 1: 0 })
    expect(data.b).toEqual({ 0: [2, 1] })
    expect(stats).toEqual({ matched: 5, unmatchedCanonical: 1, lostCovered: 1 })
  })

  it('adds and zeroes counts over the same maps', () => {
    const a = file({ s: [1, 0, 2], f: [1, 0], b: [[1, 0]] })
    const b = file({ s: [0, 4, 1], f: [2, 0], b: [[0, 3]] })
    expect(addCounts(a, b)).toMatchObject({ s: { 0: 1, 1: 4, 2: 3 }, f: { 0: 3, 1: 0 }, b: { 0: [1, 3] } })
    expect(zeroCounts(a)).toMatchObject({ s: { 0: 0, 1: 0, 2: 0 }, f: { 0: 0, 1: 0 }, b: { 0: [0, 0] } })
  })
})
