/**
 * @module The conformance report, as markdown that also reads well in a terminal: tiercache's scores next
 * to the published rows of other caches, the exact `summarize.mjs --line` output, every failing or
 * not-scored test with its message, the deliberate differences apart, and the floor check. Pure: it only
 * formats what it is given.
 */
import { figuresOf, SCOPES, type Classification, type FailedTest, type Scope } from './classify.ts'
import type { SplitFailures } from './deliberate.ts'
import type { FloorComparison } from './floor.ts'

/** One implementation's row. */
export interface ScoreRow {
  label: string
  classification: Classification
}

/** Everything the report shows. */
export interface ReportInput {
  /** When the run started (ISO 8601). */
  startedAt: string
  /** tiercache's row first, then the published ones. */
  rows: ScoreRow[]
  /** `summarize.mjs --line` output for tiercache, one line per scope. */
  summaryLines: string[]
  /** What the comparison with the real summarize.mjs found. */
  summarizeNote: string
  /** tiercache's failures per scope, split into deliberate and other. */
  failures: Record<Scope, Pick<SplitFailures, 'deliberate' | 'other'>>
  /** Tests listed as deliberate that did not fail in either scope. */
  staleDeliberate: string[]
  floor: FloorComparison[]
  /** Free-form facts about the run (suite, worker URL, durations). */
  notes: string[]
}

/** Right-aligns every column but the first, pads every cell to its column's width. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** `pass / fail / not scored` of one kind. */
const triple = (pass: number, fail: number, notScored: number) => `${pass} / ${fail} / ${notScored}`

/** The comparison table: one row per implementation, both scopes. */
export function scoreTable(rows: ScoreRow[]): string {
  const [first] = rows
  if (!first) return ''
  const shared = first.classification['shared-cache'].totals
  const cdn = first.classification['cdn-cache-control'].totals
  const header = [
    'implementation',
    `required (${shared.required}) pass / fail / n.s.`,
    `optional (${shared.optimal}) pass / fail / n.s.`,
    `checks (${shared.check}) yes / no`,
    `CDN-CC required (${cdn.required})`,
    `CDN-CC optional (${cdn.optimal})`,
  ]
  const body = rows.map(({ label, classification }) => {
    const s = figuresOf(classification['shared-cache'])
    const c = figuresOf(classification['cdn-cache-control'])
    return [
      label,
      triple(s.requiredPass, s.requiredFail, s.requiredNotScored),
      triple(s.optionalPass, s.optionalFail, s.optionalNotScored),
      `${s.checksYes} / ${s.checksNo}`,
      triple(c.requiredPass, c.requiredFail, c.requiredNotScored),
      triple(c.optionalPass, c.optionalFail, c.optionalNotScored),
    ]
  })
  return markdownTable(header, body)
}

/** What the client recorded for a failed test, on one line. */
export function messageOf(test: FailedTest): string {
  if (test.result === 'dependency_fail') return `depends on ${test.failedDependencies.join(', ')}, which did not pass`
  if (test.outcome === undefined) return 'not run'
  if (test.outcome === true) return 'passed by itself'
  return test.outcome.filter((part) => part !== null && part !== undefined && part !== '').join(': ').replace(/\s+/g, ' ')
}

/** One line per failed test: `kind result id — message`. */
export function failureLines(tests: FailedTest[]): string[] {
  return tests.map((test) => `- \`${test.id}\` (${test.kind === 'optimal' ? 'optional' : test.kind}, ${test.result}): ${messageOf(test)}`)
}

/** The floor check as a table. */
export function floorTable(comparisons: FloorComparison[]): string {
  return markdownTable(
    ['figure', 'today', 'floor', ''],
    comparisons.map((c) => [c.label, String(c.today), String(c.floor), c.ok ? 'ok' : c.key === 'maxNotScored' ? 'ROSE' : 'DROPPED'])
  )
}

const scopeTitle: Record<Scope, string> = {
  'shared-cache': 'shared cache (RFC 9111)',
  'cdn-cache-control': 'CDN-Cache-Control (RFC 9213)',
}

/** The whole report. */
export function renderReport(input: ReportInput): string {
  const out: string[] = []
  out.push(`# cache-tests conformance: tiercache`, '')
  out.push(`Run ${input.startedAt}. ${input.notes.join(' ')}`, '')
  out.push('## Scores', '')
  out.push('Classified as cache-tests.fyi does (`summarize.mjs`); n.s. = not scored (a setup step or a test it depends on failed).', '')
  out.push(scoreTable(input.rows), '')
  out.push('```', ...input.summaryLines, '```', '', input.summarizeNote, '')
  out.push('## Floor (scripts/conformance/floor.json)', '', floorTable(input.floor), '')
  for (const scope of SCOPES) {
    const split = input.failures[scope]
    const apart = split.deliberate.length > 0 ? `; ${split.deliberate.length} deliberate, listed below` : ''
    out.push(`## Failing or not scored: ${scopeTitle[scope]} (${split.other.length}${apart})`, '')
    out.push(...(split.other.length > 0 ? failureLines(split.other) : ['None.']), '')
  }
  const deliberate = SCOPES.flatMap((scope) => input.failures[scope].deliberate)
  out.push(`## Known failures: deliberate rules, platform limits, suite fixtures (${deliberate.length}; scripts/conformance/deliberate.json, counted as failures above)`, '')
  out.push(...(deliberate.length > 0 ? deliberate.flatMap((test) => [...failureLines([test]), `  - why: ${test.reason}`]) : ['None.']), '')
  if (input.staleDeliberate.length > 0) {
    out.push('Listed as deliberate but did not fail (remove them from deliberate.json):', '', ...input.staleDeliberate.map((id) => `- \`${id}\``), '')
  }
  return `${out.join('\n').trimEnd()}\n`
}
