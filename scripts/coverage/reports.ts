/**
 * @module Writes the merged coverage the usual ways: `lcov.info` (for editors and CI services),
 * `coverage-final.json` (istanbul's format, what other tools merge) and an HTML report in `html/`.
 */
import libReport from 'istanbul-lib-report'
import reports from 'istanbul-reports'
import type { CoverageMap } from 'istanbul-lib-coverage'

/** Writes the reports for `map` into `dir`; source paths in them are shown relative to `root`. */
export function writeReports(map: CoverageMap, dir: string, root: string): void {
  const context = libReport.createContext({ dir, coverageMap: map, defaultSummarizer: 'nested' })
  reports.create('lcovonly', { file: 'lcov.info', projectRoot: root }).execute(context)
  reports.create('json', { file: 'coverage-final.json' }).execute(context)
  reports.create('html', { subdir: 'html', skipEmpty: false }).execute(context)
}
