/**
 * @module How a worker process records V8 coverage of the bundle it runs, and how it is read back.
 *
 * Why not just `Profiler.startPreciseCoverage` over the inspector socket (Miniflare's `inspectorPort`)?
 * workerd answers `Profiler.enable` itself (it starts its own CPU profiler, for the DevTools
 * "Performance" tab) and never passes it on to V8, so V8's Profiler agent for that session stays
 * disabled and `Profiler.startPreciseCoverage` fails with "Profiler is not enabled" (checked against
 * workerd 1.20260730.1, which Miniflare 4.20260730.0 runs). The way workerd offers to reach V8's
 * Profiler domain is its local-dev-only `node:inspector` Session (compatibility flag
 * `enable_nodejs_inspector_local_dev`, which needs `nodejs_compat` and `workerd --experimental`, which
 * Miniflare always passes). So in coverage mode:
 *   1. the worker gets an entry module that first imports a start module, then re-exports the bundle: the start module connects an in-isolate Session and starts precise coverage
 *      (callCount + detailed, i.e. block counts) before the bundle's top-level code runs;
 *   2. before the process is disposed, the test side connects to the workerd inspector
 *      (`inspectorPort: 0`, target `core:user:<worker name>`) and evaluates the start module's take
 *      function in the worker's context, which returns `Profiler.takePreciseCoverage` for the bundle.
 * What the worker under test sees differently: `nodejs_compat` without v2 (so `node:*` modules become
 * importable but no `process`/`Buffer` globals appear) turns `setTimeout`/`setInterval` and their
 * `clear*` into Node-style own properties of `globalThis`, and there is one more global, the take
 * function; the bundle's bytes are the same.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Miniflare, MiniflareOptions } from 'miniflare'
import type { Profiler } from 'node:inspector'
import { openInspectorSession } from './inspector-session.ts'

/** The global the start module defines: returns the bundle's precise coverage as a JSON string. */
const TAKE_COVERAGE_GLOBAL = '__tiercacheTakeCoverage'
const ENTRY_MODULE = '__tiercache-coverage-entry.js'
const START_MODULE = '__tiercache-coverage-start.js'
const COVERAGE_FLAGS = ['nodejs_compat', 'no_nodejs_compat_v2', 'enable_nodejs_inspector_local_dev']

/** The bundle a coverage-instrumented worker runs. */
export interface InstrumentedScript {
  path: string
  sha256: string
}

// Session.post answers synchronously (the in-isolate connection dispatches inside the call), so the
// start module can throw at load time, which fails `mf.ready` loudly instead of recording nothing.
const startModule = (bundleName: string) => `import { Session } from 'node:inspector'
const session = new Session()
session.connect()
const call = (method, params) => {
  let answer
  session.post(method, params, (error, result) => { answer = { error, result } })
  if (!answer) throw new Error(method + ': the inspector did not answer synchronously')
  if (answer.error) throw answer.error
  return answer.result
}
call('Profiler.enable')
call('Profiler.startPreciseCoverage', { callCount: true, detailed: true })
globalThis.${TAKE_COVERAGE_GLOBAL} = () =>
  JSON.stringify(call('Profiler.takePreciseCoverage').result.filter((s) => s.url.endsWith(${JSON.stringify(`/${bundleName}`)})))
`

const entryModule = (bundleName: string) => `import './${START_MODULE}'
export * from './${bundleName}'
export { default } from './${bundleName}'
`

/**
 * Returns `options` rewritten to record coverage of their bundle. Only the shape the tests use is
 * supported (`modules: true` with a `scriptPath`): anything else throws rather than silently
 * recording nothing.
 */
export function instrumentForCoverage(options: MiniflareOptions): { options: MiniflareOptions; script: InstrumentedScript } {
  if (!('scriptPath' in options) || typeof options.scriptPath !== 'string' || options.modules !== true) {
    throw new Error('workerd coverage: expected Miniflare options with `modules: true` and a `scriptPath`')
  }
  const scriptPath = path.resolve(options.scriptPath)
  const dir = path.dirname(scriptPath)
  const bundleName = path.basename(scriptPath)
  const bundle = readFileSync(scriptPath)
  const { scriptPath: _, modules: __, ...rest } = options
  return {
    script: { path: scriptPath, sha256: createHash('sha256').update(bundle).digest('hex') },
    options: {
      ...rest,
      modulesRoot: dir,
      modules: [
        { type: 'ESModule', path: path.join(dir, ENTRY_MODULE), contents: entryModule(bundleName) },
        { type: 'ESModule', path: path.join(dir, START_MODULE), contents: startModule(bundleName) },
        { type: 'ESModule', path: scriptPath, contents: bundle.toString('utf8') },
      ],
      compatibilityFlags: [...new Set([...(options.compatibilityFlags ?? []), ...COVERAGE_FLAGS])],
      inspectorPort: 0,
    } as MiniflareOptions,
  }
}

/** Takes the precise coverage recorded so far by an instrumented worker named `workerName`. */
export async function takeWorkerdCoverage(mf: Miniflare, workerName = ''): Promise<Profiler.FunctionCoverage[]> {
  const inspector = (await mf.getInspectorURL()).href.replace(/\/$/, '')
  const session = await openInspectorSession(`${inspector}/core:user:${workerName}`)
  try {
    // The worker's context is announced on Runtime.enable; evaluate in it by its unique id, since
    // workerd registers no default context for the inspector.
    const contextCreated = session.event<{ context: { uniqueId: string; name: string } }>('Runtime.executionContextCreated')
    await session.send('Runtime.enable')
    const { context } = await contextCreated
    const evaluated = await session.send<{ result: { value?: string }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
      'Runtime.evaluate',
      { expression: `globalThis.${TAKE_COVERAGE_GLOBAL}()`, uniqueContextId: context.uniqueId, returnByValue: true }
    )
    if (evaluated.exceptionDetails) {
      throw new Error(`taking coverage failed: ${evaluated.exceptionDetails.exception?.description ?? evaluated.exceptionDetails.text}`)
    }
    const scripts = JSON.parse(evaluated.result.value ?? '[]') as Profiler.ScriptCoverage[]
    if (scripts.length !== 1) throw new Error(`expected coverage of exactly one bundle, got ${scripts.length}`)
    return scripts[0]!.functions
  } finally {
    session.close()
  }
}
