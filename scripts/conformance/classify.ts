/**
 * @module Scoring a cache-tests results file the way cache-tests.fyi does, as `summarize.mjs` (beside the
 * suite in ../shared/conformance) computes it: the same two scopes, the same per-kind counts, the same
 * "not scored" bucket and the same `--line` text. The suite's own `determineTestResult` decides each
 * test (it honours `depends_on`), loaded from the suite copy, so a newer suite is scored by its own rules.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { SuiteResults, TestOutcome } from './suite-client.ts'

/**
 * The two scopes: RFC 9111 shared-cache behaviour (every test the CLI runs except `cdn_only`) and
 * RFC 9213 CDN-Cache-Control (`cdn_only`). Browser-only tests are in neither.
 */
export const SCOPES = ['shared-cache', 'cdn-cache-control'] as const
export type Scope = (typeof SCOPES)[number]

/** A test's kind: `required` (conformance), `optimal` (an optimisation, "optional"), `check` (informational). */
export type Kind = 'required' | 'optimal' | 'check'

/** The suite's result names (`resultTypes` in test-engine/lib/results.mjs). */
export type ResultName = 'pass' | 'fail' | 'optional_fail' | 'yes' | 'no' | 'setup_fail' | 'harness_fail' | 'dependency_fail' | 'retry' | 'untested'

/** Results that are scored: everything else is "not scored" (dependency, setup, harness, retry, untested). */
const SCORED: ReadonlySet<ResultName> = new Set(['pass', 'fail', 'optional_fail', 'yes', 'no'])

/** One test as the suite declares it (tests/*.mjs). */
export interface SuiteTest {
  id: string
  name?: string
  kind?: Kind
  browser_only?: boolean
  cdn_only?: boolean
  depends_on?: string[]
}

/** One suite (a file of tests/*.mjs). */
export interface TestSuite {
  id: string
  name: string
  tests: SuiteTest[]
}

/** `determineTestResult(suites, id, results, honorDependencies)` from the suite: returns a `resultTypes` row. */
export type DetermineTestResult = (suites: TestSuite[], testId: string, results: SuiteResults, honorDependencies: boolean) => readonly string[]

/** What scoring needs from the suite. */
export interface Scoring {
  suites: TestSuite[]
  determineTestResult: DetermineTestResult
  /** `resultTypes[name][2]` (the symbol) → name: how summarize.mjs maps a row back to its name. */
  nameOfSymbol: Map<string, ResultName>
}

/** A test that did not pass (or was not scored), with what the client recorded. */
export interface FailedTest {
  scope: Scope
  kind: Kind
  result: ResultName
  id: string
  /** The test's description from the suite. */
  name: string
  /** What the client recorded (`undefined` when the test did not run). */
  outcome: TestOutcome | undefined
  /** For a `dependency_fail`: the tests it depends on that did not pass. */
  failedDependencies: string[]
}

/** Counts per kind and result name, as summarize.mjs keeps them. */
export type Counts = Record<Kind, Partial<Record<ResultName, number>>>

/** One scope's classification. */
export interface ScopeScore {
  counts: Counts
  failed: FailedTest[]
  /** Tests in the scope, and per kind. */
  total: number
  totals: Record<Kind, number>
}

export type Classification = Record<Scope, ScopeScore>

/** The figures of one scope that the report and the floor use. */
export interface ScopeFigures {
  requiredPass: number
  requiredFail: number
  requiredNotScored: number
  optionalPass: number
  optionalFail: number
  optionalNotScored: number
  checksYes: number
  checksNo: number
}

/** Loads the suite's test list and its result logic from a suite copy. */
export async function loadScoring(suiteDir: string): Promise<Scoring> {
  const { default: suites } = (await import(pathToFileURL(path.join(suiteDir, 'tests/index.mjs')).href)) as { default: TestSuite[] }
  const { determineTestResult, resultTypes } = (await import(pathToFileURL(path.join(suiteDir, 'test-engine/lib/results.mjs')).href)) as {
    determineTestResult: DetermineTestResult
    resultTypes: Record<ResultName, readonly string[]>
  }
  const nameOfSymbol = new Map<string, ResultName>()
  for (const [name, row] of Object.entries(resultTypes) as Array<[ResultName, readonly string[]]>) nameOfSymbol.set(row[2]!, name)
  return { suites, determineTestResult, nameOfSymbol }
}

/** The tests of each scope, with `kind` defaulted to `required` as the suite does. */
export function testsByScope(suites: TestSuite[]): Record<Scope, Array<SuiteTest & { kind: Kind }>> {
  const all = suites.flatMap((suite) => suite.tests.map((test) => ({ ...test, kind: test.kind ?? 'required' })))
  return {
    'shared-cache': all.filter((test) => !test.browser_only && !test.cdn_only),
    'cdn-cache-control': all.filter((test) => test.cdn_only === true),
  }
}

/** Classifies `results` in both scopes (summarize.mjs `classify`). */
export function classify(scoring: Scoring, results: SuiteResults): Classification {
  const scopes = testsByScope(scoring.suites)
  const passed = (id: string) => {
    const name = scoring.nameOfSymbol.get(scoring.determineTestResult(scoring.suites, id, results, true)[2]!)
    return name === 'pass' || name === 'yes'
  }
  const out = {} as Classification
  for (const scope of SCOPES) {
    const counts: Counts = { required: {}, optimal: {}, check: {} }
    const totals: Record<Kind, number> = { required: 0, optimal: 0, check: 0 }
    const failed: FailedTest[] = []
    for (const test of scopes[scope]) {
      const row = scoring.determineTestResult(scoring.suites, test.id, results, true)
      const result = scoring.nameOfSymbol.get(row[2]!) ?? 'untested'
      counts[test.kind][result] = (counts[test.kind][result] ?? 0) + 1
      totals[test.kind]++
      if (result !== 'pass' && result !== 'yes' && result !== 'no') {
        const failedDependencies = result === 'dependency_fail' ? (test.depends_on ?? []).filter((id) => !passed(id)) : []
        failed.push({ scope, kind: test.kind, result, id: test.id, name: test.name ?? '', outcome: results[test.id], failedDependencies })
      }
    }
    out[scope] = { counts, failed, total: scopes[scope].length, totals }
  }
  return out
}

const count = (counts: Partial<Record<ResultName, number>>, name: ResultName): number => counts[name] ?? 0
const notScored = (counts: Partial<Record<ResultName, number>>): number =>
  Object.entries(counts).reduce((sum, [name, n]) => (SCORED.has(name as ResultName) ? sum : sum + (n ?? 0)), 0)

/** The numbers of one scope. */
export function figuresOf(score: ScopeScore): ScopeFigures {
  const { required, optimal, check } = score.counts
  return {
    requiredPass: count(required, 'pass'),
    requiredFail: count(required, 'fail'),
    requiredNotScored: notScored(required),
    optionalPass: count(optimal, 'pass'),
    optionalFail: count(optimal, 'optional_fail'),
    optionalNotScored: notScored(optimal),
    checksYes: count(check, 'yes'),
    checksNo: count(check, 'no'),
  }
}

/** The line `summarize.mjs --line` prints for one scope, character for character. */
export function summaryLine(scope: Scope, f: ScopeFigures, label: string): string {
  return (
    `${scope}: ${f.requiredPass + f.optionalPass} passed, ${f.requiredFail + f.optionalFail} failed ` +
    `(required: ${f.requiredPass}/${f.requiredFail}, optional: ${f.optionalPass}/${f.optionalFail})` +
    `; not scored: ${f.requiredNotScored + f.optionalNotScored} (required ${f.requiredNotScored}, optional ${f.optionalNotScored}: dependency/setup/harness/retry/untested)` +
    `; checks yes/no: ${f.checksYes}/${f.checksNo}` +
    (label ? `  [${label}]` : '')
  )
}
