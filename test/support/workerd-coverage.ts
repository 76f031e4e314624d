/**
 * The hook that lets `npm run coverage` see the code that runs inside workerd. Tests construct
 * `MiniflareWithCoverage` where they would construct `Miniflare`: while `TIERCACHE_COVERAGE_DIR` is
 * unset (every normal test run) it is Miniflare unchanged; when set, the worker records V8 precise
 * coverage of its bundle from before the bundle's first line runs, and `dispose()` writes it to that
 * directory first (scripts/coverage/workerd-instrumentation.ts explains how and why that way).
 */
import { Miniflare, type MiniflareOptions } from 'miniflare'
import { COVERAGE_DIR_ENV, writeRawCoverage } from '../../scripts/coverage/raw-coverage.ts'
import { instrumentForCoverage, takeWorkerdCoverage, type InstrumentedScript } from '../../scripts/coverage/workerd-instrumentation.ts'

/** How long taking coverage may hold up `dispose()` before the process's coverage is given up. */
const TAKE_TIMEOUT_MS = 30_000

export class MiniflareWithCoverage extends Miniflare {
  readonly #coverage: { dir: string; script: InstrumentedScript; workerName: string } | undefined
  #taken = false

  /** `coverageDir` defaults to `$TIERCACHE_COVERAGE_DIR`; coverage is off when that is unset or `coverageDir` is null. */
  constructor(options: MiniflareOptions, coverageDir: string | null = process.env[COVERAGE_DIR_ENV] || null) {
    const instrumented = coverageDir ? instrumentForCoverage(options) : undefined
    super(instrumented?.options ?? options)
    if (instrumented && coverageDir) {
      const workerName = 'name' in options && typeof options.name === 'string' ? options.name : ''
      this.#coverage = { dir: coverageDir, script: instrumented.script, workerName }
    }
  }

  /** Writes this process's coverage (once, and never failing the test over it), then disposes. */
  override async dispose(): Promise<void> {
    if (this.#coverage && !this.#taken) {
      this.#taken = true
      const { dir, script, workerName } = this.#coverage
      let timer: ReturnType<typeof setTimeout> | undefined
      try {
        const functions = await Promise.race([
          takeWorkerdCoverage(this, workerName),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer in ${TAKE_TIMEOUT_MS} ms`)), TAKE_TIMEOUT_MS)
          }),
        ])
        writeRawCoverage(dir, { scriptPath: script.path, scriptSha256: script.sha256, functions })
      } catch (error) {
        console.warn(`[coverage] lost the workerd coverage of one ${script.path} process: ${(error as Error).message}`)
      } finally {
        clearTimeout(timer)
      }
    }
    return super.dispose()
  }
}
