/**
 * @module The numbers: per-file and total statement, branch, function and line coverage of `src/`,
 * for Node only, workerd only and both, as data (for `coverage/summary.json`) and as a text table.
 */
import path from 'node:path'
import type { CoverageMap, CoverageSummary } from 'istanbul-lib-coverage'

export interface Totals {
  statements: Metric
  branches: Metric
  functions: Metric
  lines: Metric
}

export interface Metric {
  covered: number
  total: number
  /** Percentage with two decimals; 100 when there is nothing to cover. */
  pct: number
}

export interface CoverageSummaryData {
  totals: { node: Totals; workerd: Totals; combined: Totals }
  files: Array<{ file: string; combined: Totals; nodeLines: Metric; workerdLines: Metric }>
}

const METRICS = ['statements', 'branches', 'functions', 'lines'] as const

const metric = (covered: number, total: number): Metric => ({
  covered,
  total,
  pct: total === 0 ? 100 : Math.floor((covered / total) * 10_000) / 100,
})

function totalsOf(summary: CoverageSummary): Totals {
  const data = summary.toJSON()
  return Object.fromEntries(METRICS.map((m) => [m, metric(data[m].covered, data[m].total)])) as unknown as Totals
}

/** Summarises the three maps (which share their files and items). */
export function summarise(maps: { node: CoverageMap; workerd: CoverageMap; combined: CoverageMap }, root: string): CoverageSummaryData {
  return {
    totals: {
      node: totalsOf(maps.node.getCoverageSummary()),
      workerd: totalsOf(maps.workerd.getCoverageSummary()),
      combined: totalsOf(maps.combined.getCoverageSummary()),
    },
    files: maps.combined.files().map((file) => ({
      file: path.relative(root, file),
      combined: totalsOf(maps.combined.fileCoverageFor(file).toSummary()),
      nodeLines: totalsOf(maps.node.fileCoverageFor(file).toSummary()).lines,
      workerdLines: totalsOf(maps.workerd.fileCoverageFor(file).toSummary()).lines,
    })),
  }
}

const pct = (m: Metric) => `${m.pct.toFixed(1)}`.padStart(6)

/** The table printed at the end of `npm run coverage`. */
export function formatSummary(summary: CoverageSummaryData): string {
  const width = Math.max(28, ...summary.files.map((f) => f.file.length)) + 2
  const header = `${'File'.padEnd(width)} ${'Stmts'.padStart(6)} ${'Branch'.padStart(6)} ${'Funcs'.padStart(6)} ${'Lines'.padStart(6)}  │ ${'lines: node'.padStart(11)} ${'workerd'.padStart(8)}`
  const rule = '─'.repeat(header.length)
  const row = (label: string, t: Totals, extra = '') =>
    `${label.padEnd(width)} ${pct(t.statements)} ${pct(t.branches)} ${pct(t.functions)} ${pct(t.lines)}  │${extra}`
  const lines = [header, rule]
  for (const f of summary.files) {
    lines.push(row(f.file, f.combined, ` ${pct(f.nodeLines).padStart(11)} ${pct(f.workerdLines).padStart(8)}`))
  }
  lines.push(rule)
  lines.push(row('All src/ — Node only', summary.totals.node))
  lines.push(row('All src/ — workerd only', summary.totals.workerd))
  lines.push(row('All src/ — both (the report)', summary.totals.combined))
  return lines.join('\n')
}
