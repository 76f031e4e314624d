/**
 * @module Lays one coverage record of a file onto another record's statement, function and branch maps.
 *
 * The Node side (vitest) and the workerd side (the bundle) describe the same `src/` file through two
 * different transforms of it (vite's per-file transform; esbuild's bundle), so their maps agree on
 * almost every item but not on every location: a `const f = () => …` statement starts at `f` on one
 * side and at the arrow on the other, `} else if` starts at the brace, ends differ by a column, and the
 * bundle lacks what esbuild shook out. Merging the two maps as they are (istanbul's merge keys items by
 * exact location) would count those items twice, once covered and once not. Instead the Node map is
 * the one description of the file, and each of its items takes the count of its counterpart on the
 * other side, found by:
 *   1. the same start and end (an end "at end of line" is written `null` in JSON and `Infinity` in
 *      memory: the same thing);
 *   2. else the same start;
 *   3. else the same end on the same start line (the `const f = () => …` and `} else if` cases);
 *   4. else the same end, starting on the line before (esbuild sometimes maps the start of an
 *      `else if` or of a one-line `if` to the end of the previous line);
 *   5. else the nearest item left over that starts and ends on the same lines (vite maps the start of
 *      `for (const x of xs)` to `const`, esbuild to `for`, and their ends differ by a column).
 * An item with no counterpart gets 0 there: in a bundle, that is code esbuild left out, which never ran.
 * Counterparts are taken once each, exact matches first.
 */
import type { BranchMapping, FileCoverageData, FunctionMapping } from 'istanbul-lib-coverage'

/** How well the other side's items found a place in the canonical map. */
export interface ProjectionStats {
  /** Canonical items (statements + functions + branches) that found a counterpart. */
  matched: number
  /** Canonical items with no counterpart (0 from the other side). */
  unmatchedCanonical: number
  /** Items of the other side, with a non-zero count, that found no canonical item: coverage not shown. */
  lostCovered: number
}

type Located = { start: { line: number; column: number | null }; end: { line: number; column: number | null } }

/** One statement, function or branch: where it is, and what must agree for two to pair (branch type and arity). */
export interface Item {
  loc: Located
  kind?: string
}

const column = (c: number | null | undefined) => (c === null || c === undefined || c === Infinity ? 'eol' : String(c))
const startKey = (l: Located) => `${l.start.line}:${column(l.start.column)}`
const endKey = (l: Located) => `${l.end.line}:${column(l.end.column)}`

/** Pairs each canonical item with the index of at most one item of the other side (see the module comment). */
export function matchItems(canonical: Item[], other: Item[]): (number | undefined)[] {
  const pairs: (number | undefined)[] = new Array(canonical.length).fill(undefined)
  const taken = new Set<number>()
  const passes: Array<(c: Located, o: Located) => boolean> = [
    (c, o) => startKey(c) === startKey(o) && endKey(c) === endKey(o),
    (c, o) => startKey(c) === startKey(o),
    (c, o) => endKey(c) === endKey(o) && c.start.line === o.start.line,
    (c, o) => endKey(c) === endKey(o) && c.start.line === o.start.line + 1,
    (c, o) => c.start.line === o.start.line && c.end.line === o.end.line,
  ]
  const distance = (c: Located, o: Located) => Math.abs((o.start.column ?? 0) - (c.start.column ?? 0))
  for (const same of passes) {
    canonical.forEach((c, ci) => {
      if (pairs[ci] !== undefined) return
      let best: number | undefined
      other.forEach((o, oi) => {
        if (taken.has(oi) || c.kind !== o.kind || !same(c.loc, o.loc)) return
        // Among several candidates, the one starting nearest to the canonical start.
        if (best === undefined || distance(c.loc, o.loc) < distance(c.loc, other[best]!.loc)) best = oi
      })
      if (best !== undefined) {
        pairs[ci] = best
        taken.add(best)
      }
    })
  }
  return pairs
}

const values = <T>(record: Record<string, T>) => Object.keys(record).map((k) => [k, record[k]!] as const)

/**
 * Returns `canonical`'s maps carrying `other`'s counts (zeros where `other` has no counterpart),
 * with statistics on the match.
 */
export function projectOnto(canonical: FileCoverageData, other: FileCoverageData): { data: FileCoverageData; stats: ProjectionStats } {
  const stats: ProjectionStats = { matched: 0, unmatchedCanonical: 0, lostCovered: 0 }
  const tally = (pairs: (number | undefined)[], otherCovered: boolean[]) => {
    const used = new Set(pairs.filter((p) => p !== undefined))
    stats.matched += used.size
    stats.unmatchedCanonical += pairs.length - used.size
    stats.lostCovered += otherCovered.filter((covered, i) => covered && !used.has(i)).length
  }

  /**
   * One map: pairs its items, tallies the pairing, and gives each canonical item its counterpart's count
   * (`carry(undefined, …)` when it has none).
   */
  const project = <M, C>(
    canonicalMap: Record<string, M>,
    otherMap: Record<string, M>,
    otherCounts: Record<string, C>,
    item: (mapping: M) => Item,
    covered: (count: C | undefined) => boolean,
    carry: (count: C | undefined, mapping: M) => C
  ): Record<string, C> => {
    const cItems = values(canonicalMap)
    const oItems = values(otherMap)
    const pairs = matchItems(
      cItems.map(([, m]) => item(m)),
      oItems.map(([, m]) => item(m))
    )
    tally(pairs, oItems.map(([k]) => covered(otherCounts[k])))
    const counts: Record<string, C> = {}
    cItems.forEach(([k, m], i) => {
      const o = pairs[i]
      counts[k] = carry(o === undefined ? undefined : otherCounts[oItems[o]![0]], m)
    })
    return counts
  }

  const hits = (n: number | undefined) => (n ?? 0) > 0
  const s = project(canonical.statementMap, other.statementMap, other.s, (r) => ({ loc: r as Located }), hits, (n) => n ?? 0)
  const f = project(canonical.fnMap, other.fnMap, other.f, (fn: FunctionMapping) => ({ loc: fn.loc as Located }), hits, (n) => n ?? 0)
  // A branch sits where its first arm does; it pairs only with a branch of the same type and arity.
  const b = project(
    canonical.branchMap,
    other.branchMap,
    other.b,
    (branch: BranchMapping): Item => ({ loc: (branch.locations[0] ?? branch.loc) as Located, kind: `${branch.type}/${branch.locations.length}` }),
    (arms) => (arms ?? []).some((n) => n > 0),
    (arms, branch) => (arms ? [...arms] : new Array<number>(branch.locations.length).fill(0))
  )

  return { data: { ...canonical, s, f, b }, stats }
}

/** Adds the counts of two records that share the same maps. */
export function addCounts(a: FileCoverageData, b: FileCoverageData): FileCoverageData {
  const sum = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries(Object.keys(x).map((k) => [k, (x[k] ?? 0) + (y[k] ?? 0)]))
  return {
    ...a,
    s: sum(a.s, b.s),
    f: sum(a.f, b.f),
    b: Object.fromEntries(Object.keys(a.b).map((k) => [k, a.b[k]!.map((n, i) => n + (b.b[k]?.[i] ?? 0))])),
  }
}

/** A record with the same maps and every count zero. */
export function zeroCounts(data: FileCoverageData): FileCoverageData {
  const zero = (x: Record<string, number>) => Object.fromEntries(Object.keys(x).map((k) => [k, 0]))
  return { ...data, s: zero(data.s), f: zero(data.f), b: Object.fromEntries(Object.keys(data.b).map((k) => [k, data.b[k]!.map(() => 0)])) }
}
