/**
 * `npm run coverage`: coverage of `src/` including the code that only ever runs inside workerd.
 *   1. makes sure redis-server answers (as `npm test` does) and builds the worker bundle with its map;
 *   2. runs the vitest suite once with V8 coverage of the Node side (`src/**`, json) and with
 *      `TIERCACHE_COVERAGE_DIR` set, so every worker process the tests start records V8 coverage of
 *      its bundle and leaves it there on dispose (test/support/workerd-coverage.ts);
 *   3. maps the workerd coverage back to `src/` through the bundle's source map, lays it onto the Node
 *      side's maps and writes `coverage/lcov.info`, `coverage/coverage-final.json`, `coverage/html/`,
 *      `coverage/summary.json` and `coverage/uncovered-branches.txt`, then prints the table.
 * Extra arguments go to vitest, e.g. `npm run coverage -- test/worker/purge.test.ts`. The exit code is
 * vitest's; the report is written even when a test failed (a failed test's coverage is still coverage).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { buildWorker, projectRoot } from '../build-worker.ts'
import { ensureRedis } from '../lib/redis-process.ts'
import { mergeCoverage, readNodeCoverage } from './merge.ts'
import { COVERAGE_DIR_ENV, readRawCoverage } from './raw-coverage.ts'
import { writeReports } from './reports.ts'
import { formatSummary, summarise } from './summary.ts'
import { formatUncoveredBranches, uncoveredBranches } from './uncovered-branches.ts'

const outDir = path.join(projectRoot, 'coverage')
const nodeDir = path.join(outDir, 'node')
const workerdDir = path.join(outDir, 'workerd')
const srcDir = path.join(projectRoot, 'src')

function runVitest(args: string[]): Promise<number> {
  const vitestArgs = [
    path.join(projectRoot, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--coverage.enabled=true',
    '--coverage.provider=v8',
    '--coverage.include=src/**',
    '--coverage.reporter=json',
    `--coverage.reportsDirectory=${nodeDir}`,
    // A failing test should not cost the whole report.
    '--coverage.reportOnFailure=true',
    ...args,
  ]
  return new Promise((resolve) => {
    const child = spawn(process.execPath, vitestArgs, {
      cwd: projectRoot,
      stdio: 'inherit',
      env: { ...process.env, [COVERAGE_DIR_ENV]: workerdDir },
    })
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

let redis
try {
  redis = await ensureRedis()
} catch (error) {
  console.error((error as Error).message)
  process.exit(1)
}
console.log(`redis ${redis.host}:${redis.port}${redis.started ? ' (started for this run)' : ' (already running)'}`)

rmSync(outDir, { recursive: true, force: true })
mkdirSync(workerdDir, { recursive: true })
await buildWorker()

console.log('\n▶ vitest with coverage (Node side: V8; workerd side: V8 through the inspector)')
const code = await runVitest(process.argv.slice(2))
await redis.stop()

console.log('\n▶ merging Node and workerd coverage')
let nodeData
try {
  nodeData = readNodeCoverage(path.join(nodeDir, 'coverage-final.json'))
} catch (error) {
  console.error(`no Node-side coverage was written (${(error as Error).message}); nothing to report`)
  process.exit(code || 1)
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
    `${p.lostCovered} covered bundle items with no src/ counterpart (class and default-export declarations)`
)
for (const w of merged.warnings) console.warn(`warning: ${w}`)
console.log(
  `\nreports: coverage/lcov.info, coverage/coverage-final.json, coverage/html/index.html, coverage/summary.json; ` +
    `${[...uncovered.values()].reduce((n, arms) => n + arms.length, 0)} never-taken branch arms in coverage/uncovered-branches.txt`
)
process.exit(code)
