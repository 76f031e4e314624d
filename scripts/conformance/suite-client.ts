/**
 * @module The cache-tests client (`test-engine/cli.mjs`) against a cache: the whole suite, whose results
 * JSON it prints on stdout, or one test, whose requests and responses it prints verbosely.
 */
import { createWriteStream } from 'node:fs'
import { spawnChild } from './child.ts'

/** One test's outcome as the client records it: `true`, or `[error name, message]` (e.g. `['Assertion', '…']`). */
export type TestOutcome = true | [string, string]

/** The client's results: test id → outcome. */
export type SuiteResults = Record<string, TestOutcome>

/**
 * The whole suite must finish within this. It takes a few minutes (some tests wait several seconds, and
 * every request has the client's own 10 s timeout); the bound only keeps a hung run from hanging CI.
 */
const SUITE_TIMEOUT_MS = 20 * 60_000

/**
 * Variables the client reads. It takes `npm_config_id || npm_package_config_id`, so "every test" (an empty
 * id) must be set in both: an unset one makes it look for a test named `undefined`.
 */
function clientEnv(baseUrl: string, testId: string): NodeJS.ProcessEnv {
  return { ...process.env, npm_config_base: baseUrl, npm_config_id: testId, npm_package_config_id: testId }
}

/**
 * Runs every test against `baseUrl` and returns the parsed results. The client's stderr (an `ERROR:`
 * line per test whose setup request failed) goes to `logFile`.
 */
export async function runSuite(suiteDir: string, baseUrl: string, logFile: string): Promise<SuiteResults> {
  const child = spawnChild('cache-tests client', process.execPath, ['--no-warnings', 'test-engine/cli.mjs'], {
    cwd: suiteDir,
    env: clientEnv(baseUrl, ''),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log = createWriteStream(logFile, { flags: 'a' })
  child.process.stderr!.pipe(log)
  let stdout = ''
  child.process.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const timer = setTimeout(() => void child.stop(), SUITE_TIMEOUT_MS)
  const code = await child.exited
  clearTimeout(timer)
  await child.stop()
  log.end()
  if (code !== 0) throw new Error(`the cache-tests client exited with ${code} (see ${logFile}):\n${stdout.slice(-2000)}`)
  return parseResults(stdout)
}

/** Runs one test verbosely, its output going straight to this process's stdout; resolves with the exit code. */
export async function runOneTest(suiteDir: string, baseUrl: string, testId: string): Promise<number> {
  const child = spawnChild(`cache-tests client (${testId})`, process.execPath, ['--no-warnings', 'test-engine/cli.mjs'], {
    cwd: suiteDir,
    env: clientEnv(baseUrl, testId),
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const code = await child.exited
  await child.stop()
  return code
}

/** Parses the client's stdout: one JSON object of test id → `true` or `[name, message]`. */
export function parseResults(stdout: string): SuiteResults {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    throw new Error(`the cache-tests client printed no JSON results:\n${stdout.slice(0, 2000)}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the cache-tests results are not an object')
  for (const [id, outcome] of Object.entries(parsed)) {
    if (outcome !== true && !Array.isArray(outcome)) throw new Error(`unexpected outcome for ${id}: ${JSON.stringify(outcome)}`)
  }
  return parsed as SuiteResults
}
