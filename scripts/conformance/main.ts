/**
 * `npm run conformance`: the public HTTP-caching test suite (http-tests/cache-tests, the suite behind
 * cache-tests.fyi) against tiercache, scored the way the site scores every other shared cache.
 *
 *   1. copies the suite (`CACHE_TESTS_DIR`, default ../shared/conformance/cache-tests) to a temporary
 *      folder and links its dependencies, installed once per package.json (suite-copy.ts);
 *   2. starts the suite's origin on a free 127.0.0.1 port (origin-server.ts);
 *   3. starts tiercache in front of it: the bundled worker in workerd through Miniflare with every tier on,
 *      Redis through upstash-local (tiercache-stack.ts);
 *   4. runs the suite's client against the worker; writes conformance-results/<timestamp>/results.json
 *      and conformance-results/latest/ (suite-client.ts, results-store.ts);
 *   5. prints the classification next to the published rows, checked against summarize.mjs, and every
 *      failing or not-scored test (classify.ts, report.ts), the deliberate differences apart (deliberate.ts);
 *   6. exits non-zero when a figure is below floor.json, naming it (floor.ts).
 * Everything it started is stopped at the end, on failure and on Ctrl-C (lifecycle.ts).
 *
 * `-- --id <test id>` runs one test verbosely instead, with the origin's side of it; `-- --update-floor`
 * raises the floor to this run's figures (`--force` also lowers it).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { projectRoot } from '../build-worker.ts'
import { classify, figuresOf, loadScoring, SCOPES, summaryLine } from './classify.ts'
import { readDeliberate, splitFailures } from './deliberate.ts'
import { compareWithFloor, describeDrops, floorFigures, raiseFloor, readFloor, writeFloor } from './floor.ts'
import { cleanupAll, installSignalHandlers, interruptedBy } from '../lib/lifecycle.ts'
import { resolveOptions, USAGE, UsageError, type ConformanceOptions } from './options.ts'
import { startOriginServer } from './origin-server.ts'
import { publishedRows } from './published.ts'
import { renderReport } from './report.ts'
import { createRunFiles, writeWithLatest } from './results-store.ts'
import { runOneTest, runSuite } from './suite-client.ts'
import { prepareSuite } from './suite-copy.ts'
import { checkAgainstSummarize, summarizeScriptFor } from './summarize-check.ts'
import { startTiercacheStack } from './tiercache-stack.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const FLOOR_FILE = path.join(here, 'floor.json')
const DELIBERATE_FILE = path.join(here, 'deliberate.json')
/** Installs of the suite's dependencies, one folder per package.json hash. */
const INSTALL_CACHE = path.join(projectRoot, 'node_modules', '.cache', 'tiercache-conformance')
/** The row label, as in `summarize.mjs --line tiercache=results.json`. */
const LABEL = 'tiercache'

/** Progress goes to stderr; the report is the only thing on stdout. */
const log = (line: string) => console.error(`[conformance] ${line}`)
const relative = (file: string) => path.relative(projectRoot, file)

/** Runs one test verbosely; resolves with the client's exit code. */
async function runSingle(options: ConformanceOptions, testId: string): Promise<number> {
  const suite = await prepareSuite(options.suiteDir, INSTALL_CACHE, log)
  const origin = await startOriginServer({ suiteDir: suite.dir, pidFile: path.join(suite.tempDir, 'server.pid'), output: 'inherit' })
  const stack = await startTiercacheStack({ originUrl: origin.url, output: 'inherit', log })
  log(`origin ${origin.url}, tiercache ${stack.url}`)
  return runOneTest(suite.dir, stack.url, testId)
}

/** Runs the whole suite, reports, and checks the floor; resolves with the exit code. */
async function runAll(options: ConformanceOptions): Promise<number> {
  const startedAt = new Date()
  const suite = await prepareSuite(options.suiteDir, INSTALL_CACHE, log)
  const files = await createRunFiles(options.outDir, startedAt)
  const scoring = await loadScoring(suite.dir)
  const deliberate = await readDeliberate(DELIBERATE_FILE, scoring.suites)
  const origin = await startOriginServer({ suiteDir: suite.dir, pidFile: path.join(suite.tempDir, 'server.pid'), output: files.originLog })
  const stack = await startTiercacheStack({ originUrl: origin.url, output: files.workerLog, log })
  log(`origin ${origin.url}, tiercache ${stack.url} (Redis prefix ${stack.redisPrefix}); running the suite (a few minutes)…`)
  const results = await runSuite(suite.dir, stack.url, files.clientLog)
  const seconds = Math.round((Date.now() - startedAt.getTime()) / 1000)
  await writeWithLatest(files, files.results, `${JSON.stringify(results, null, 2)}\n`)
  log(`wrote ${relative(files.results)} (${Object.keys(results).length} tests, ${seconds} s)`)

  const classification = classify(scoring, results)
  const summaryLines = SCOPES.map((scope) => summaryLine(scope, figuresOf(classification[scope]), LABEL))
  const summarize = await checkAgainstSummarize(summarizeScriptFor(options.suiteDir), options.suiteDir, LABEL, files.results, summaryLines)
  if (summarize.status === 'different') {
    throw new Error(`classify.ts disagrees with summarize.mjs:\nours:\n${summarize.ours.join('\n')}\nsummarize.mjs:\n${summarize.theirs.join('\n')}`)
  }
  const summarizeNote =
    summarize.status === 'same'
      ? `Identical to \`node ${relative(summarizeScriptFor(options.suiteDir))} ${relative(options.suiteDir)} --line ${LABEL}=results.json\`.`
      : `Not compared with summarize.mjs: ${summarize.reason}.`

  const allFailed = SCOPES.flatMap((scope) => classification[scope].failed)
  const today = floorFigures(classification)
  // With --update-floor the run is judged against the floor it leaves behind, and the report says so.
  const previous = await readFloor(FLOOR_FILE)
  const update = options.updateFloor ? raiseFloor(today, previous, options.force) : undefined
  const floor = update?.floor ?? previous
  const comparisons = compareWithFloor(today, floor)
  const floorNote = update
    ? update.changes.length > 0
      ? `floor.json updated by this run: ${update.changes.join('; ')}.`
      : 'floor.json unchanged by --update-floor (nothing better than it).'
    : ''
  const report = renderReport({
    startedAt: startedAt.toISOString(),
    rows: [{ label: LABEL, classification }, ...(await publishedRows(options.suiteDir, scoring))],
    summaryLines,
    summarizeNote,
    failures: {
      'shared-cache': splitFailures(classification['shared-cache'].failed, deliberate),
      'cdn-cache-control': splitFailures(classification['cdn-cache-control'].failed, deliberate),
    },
    staleDeliberate: splitFailures(allFailed, deliberate).stale,
    floor: comparisons,
    notes: [
      `Suite: ${relative(options.suiteDir)} (${Object.keys(results).length} tests run in ${seconds} s), every tier on (memory, edge, Redis).`,
      floorNote,
    ].filter(Boolean),
  })
  await writeWithLatest(files, files.summary, report)
  console.log(report)
  log(`wrote ${relative(files.summary)} and ${relative(files.latestDir)}/; logs in ${relative(files.dir)}/`)

  if (update && update.changes.length > 0) {
    await writeFloor(FLOOR_FILE, update.floor)
    log(`floor.json updated: ${update.changes.join('; ')}`)
  }
  const drops = describeDrops(comparisons)
  for (const drop of drops) console.error(`[conformance] BELOW THE FLOOR: ${drop}${update ? ' (lowering the floor needs --force)' : ''}`)
  return drops.length > 0 ? 1 : 0
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE)
    return 0
  }
  let options: ConformanceOptions
  try {
    options = resolveOptions(argv, process.env, projectRoot)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${error.message}\n${USAGE}`)
    return 2
  }
  installSignalHandlers('conformance')
  try {
    return options.testId !== undefined ? await runSingle(options, options.testId) : await runAll(options)
  } catch (error) {
    if (interruptedBy()) return 1
    console.error(`[conformance] failed: ${(error as Error).stack ?? error}`)
    return 1
  } finally {
    await cleanupAll()
  }
}

const code = await main()
// Stay quiet if a signal handler is already tearing down and will exit with 130/143.
if (!interruptedBy()) process.exit(code)
