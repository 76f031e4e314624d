/**
 * `npm run coverage`: coverage of `src/` including the code that only ever runs inside workerd.
 *   1. makes sure redis-server answers (as `npm test` does) and builds the worker bundle with its map;
 *   2. runs the vitest suite once with V8 coverage of the Node side (`src/**`, json) and with
 *      `TIERCACHE_COVERAGE_DIR` set, so every worker process the tests start records V8 coverage of
 *      its bundle and leaves it there on dispose (test/support/workerd-coverage.ts);
 *   3. merges both into one report (report.ts; `node scripts/coverage/report.ts` redoes only this step).
 * Extra arguments go to vitest, e.g. `npm run coverage -- test/worker/purge.test.ts`. The exit code is
 * vitest's; the report is written even when a test failed (a failed test's coverage is still coverage).
 */
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { buildWorker, projectRoot } from '../build-worker.ts'
import { ensureRedisOrExit } from '../lib/redis-process.ts'
import { runNode } from '../lib/run-node.ts'
import { COVERAGE_DIR_ENV } from './raw-coverage.ts'
import { coverageDirs, writeCoverageReport } from './report.ts'

const { outDir, nodeDir, workerdDir } = coverageDirs

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
  return runNode(vitestArgs, { ...process.env, [COVERAGE_DIR_ENV]: workerdDir })
}

const redis = await ensureRedisOrExit()
console.log(`redis ${redis.host}:${redis.port}${redis.started ? ' (started for this run)' : ' (already running)'}`)

rmSync(outDir, { recursive: true, force: true })
mkdirSync(workerdDir, { recursive: true })
await buildWorker()

console.log('\n▶ vitest with coverage (Node side: V8; workerd side: V8 through the inspector)')
const code = await runVitest(process.argv.slice(2))
await redis.stop()

console.log('\n▶ merging Node and workerd coverage')
const reported = await writeCoverageReport()
process.exit(code || (reported ? 0 : 1))
