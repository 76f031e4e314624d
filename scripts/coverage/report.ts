/**
 * @module The merge and report step of `npm run coverage`, on its own: reads the Node side
 * (`coverage/node/coverage-final.json`, from vitest) and the workerd side (`coverage/workerd/*.json`,
 * one per worker process), maps the workerd coverage back to `src/` through each bundle's source map,
 * lays it onto the Node side's maps and writes `coverage/lcov.info`, `coverage/coverage-final.json`,
 * `coverage/html/`, `coverage/summary.json` and `coverage/uncovered-branches.txt`, then prints the
 * table. Run alone (`node scripts/coverage/report.ts`) it redoes the report from the last run's data.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { projectRoot } from '../build-worker.ts'
import { mergeCoverage, readNodeCoverage } from './merge.ts'
import { readRawCoverage } from './raw-coverage.ts'
import { writeReports } from './reports.ts'
import { formatSummary, summarise } from './summary.ts'
import { formatUncoveredBranches, uncoveredBranches } from './uncovered-branches.ts'

const outDir = path.join(projectRoot, 'coverage')

/** Where `npm run coverage` keeps its inputs and writes its reports. */
export const coverageDirs = {
  outDir,
  /** vitest's json report of the Node side. */
  nodeDir: path.join(outDir, 'node'),
  /** One raw file per worker process (TIERCACHE_COVERAGE_DIR). */
  workerdDir: path.join(outDir, 'workerd'),
}
const srcDir = path.join(projectRoot, 'src')

/** Merges, writes and prints the report; false when there was no Node-side coverage to start from. */
export async function writeCoverageReport(): Promise<boolean> {
  const { nodeDir, workerdDir } = coverageDirs
  let nodeData
  try {
    nodeData = readNodeCoverage(path.join(nodeDir, 'coverage-final.json'))
  } catch (error) {
    console.error(`no Node-side coverage was written (${(error as Error).message}); nothing to report`)
    return false
  }
  const merged = await mergeCoverage(nodeData, readRawCoverage(workerdDir), srcDir)
  writeReports(merged.combined, outDir, projectRoot)
  const summary = summarise(merged, projectRoot)
  writeFileSync(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`)
  const uncovered = uncoveredBranches(merged.combined, projectRoot)
  writeFileSync(path.join(outDir, 'uncovered-branches.txt'), formatUncoveredBranches(uncovered))

  console.log(formatSummary(summary))
  for (const b of merged.bundles) console.log(`workerd: ${b.processes} worker processes ran ${path.relative(projectRoot, b.scriptPath)}`)
  const p = merged.projection
  console.log(
    `workerd items laid onto src/: ${p.matched} matched, ${p.unmatchedCanonical} absent from the bundles (counted 0), ` +
      `${p.lostCovered} covered bundle items with no src/ counterpart (such as class declarations, which the Node side does not count)`
  )
  for (const w of merged.warnings) console.warn(`warning: ${w}`)
  console.log(
    `\nreports: coverage/lcov.info, coverage/coverage-final.json, coverage/html/index.html, coverage/summary.json; ` +
      `${[...uncovered.values()].reduce((n, arms) => n + arms.length, 0)} never-taken branch arms in coverage/uncovered-branches.txt`
  )
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exit((await writeCoverageReport()) ? 0 : 1)
}
