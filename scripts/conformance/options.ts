/**
 * @module Options of `npm run conformance`, from the command line and the environment, resolved and
 * validated once before anything starts.
 */
import path from 'node:path'

/** What one conformance run does. */
export interface ConformanceOptions {
  /**
   * The http-tests/cache-tests checkout to run (read-only is fine: it is copied first).
   * From `CACHE_TESTS_DIR`, relative to the project root.
   * @default '../shared/conformance/cache-tests'
   */
  suiteDir: string
  /**
   * Where results go: `<outDir>/<timestamp>/` and `<outDir>/latest/`.
   * @default 'conformance-results'
   */
  outDir: string
  /** `--update-floor`: raise `floor.json` to today's figures where they are better. @default false */
  updateFloor: boolean
  /** `--force` (with `--update-floor`): set the floor to today's figures even where that lowers it. @default false */
  force: boolean
  /**
   * `--id <test id>` (or cache-tests' own `npm_config_id`): run that one test verbosely, printing the
   * client's and the origin's side, instead of the whole suite. No results are written, no floor checked.
   * @default undefined (the whole suite)
   */
  testId: string | undefined
}

/** Help text for `--help` and for mistakes. */
export const USAGE = `usage: npm run conformance [-- [--update-floor [--force]] [--id <test id>]]
  CACHE_TESTS_DIR   the cache-tests checkout (default ../shared/conformance/cache-tests)
  --update-floor    raise scripts/conformance/floor.json to today's figures where they are better
  --force           with --update-floor: also lower it (a deliberate regression, say why in the commit)
  --id <test id>    run one test verbosely (client and origin side), e.g. --id freshness-max-age`

/** A mistake on the command line. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Reads `argv` (without node and the script) and `env`; throws {@link UsageError} on a mistake. */
export function resolveOptions(argv: readonly string[], env: NodeJS.ProcessEnv, projectRoot: string): ConformanceOptions {
  let updateFloor = false
  let force = false
  let testId: string | undefined = env['npm_config_id'] || undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--update-floor') updateFloor = true
    else if (arg === '--force') force = true
    else if (arg === '--id') {
      testId = argv[++i]
      if (!testId) throw new UsageError('--id needs a test id')
    } else if (arg.startsWith('--id=')) testId = arg.slice('--id='.length)
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`)
  }
  if (force && !updateFloor) throw new UsageError('--force only makes sense with --update-floor')
  if (testId !== undefined && updateFloor) throw new UsageError('--update-floor needs a full run, not --id')
  return {
    suiteDir: path.resolve(projectRoot, env['CACHE_TESTS_DIR'] || '../shared/conformance/cache-tests'),
    outDir: path.resolve(projectRoot, 'conformance-results'),
    updateFloor,
    force,
    testId,
  }
}
