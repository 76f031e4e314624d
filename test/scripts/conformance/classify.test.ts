import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { classify, figuresOf, loadScoring, SCOPES, summaryLine, type Scoring } from '../../../scripts/conformance/classify.ts'
import { PUBLISHED_CACHES } from '../../../scripts/conformance/published.ts'
import { summarizeScriptFor } from '../../../scripts/conformance/summarize-check.ts'

/** A hand-made suite and result logic: each result name stands for itself. */
const symbols = { pass: 'P', fail: 'F', optional_fail: 'O', yes: 'Y', no: 'N', setup_fail: 'S', harness_fail: 'H', dependency_fail: 'D', retry: 'R', untested: '-' } as const
const scoring: Scoring = {
  suites: [
    {
      id: 's',
      name: 'S',
      tests: [
        { id: 'req-pass' },
        { id: 'req-fail' },
        { id: 'req-setup', kind: 'required' },
        { id: 'opt-fail', kind: 'optimal' },
        { id: 'opt-dep', kind: 'optimal', depends_on: ['req-pass', 'req-setup'] },
        { id: 'check-no', kind: 'check' },
        { id: 'browser', browser_only: true },
        { id: 'cdn-pass', cdn_only: true },
        { id: 'cdn-untested', cdn_only: true, kind: 'optimal' },
      ],
    },
  ],
  determineTestResult: (_suites, id) => {
    const name = ({ 'req-pass': 'pass', 'req-fail': 'fail', 'req-setup': 'setup_fail', 'opt-fail': 'optional_fail', 'opt-dep': 'dependency_fail', 'check-no': 'no', browser: 'pass', 'cdn-pass': 'pass', 'cdn-untested': 'untested' } as const)[id]!
    return ['', '', symbols[name]]
  },
  nameOfSymbol: new Map(Object.entries(symbols).map(([name, symbol]) => [symbol, name as keyof typeof symbols])),
}

describe('classify', () => {
  const result = classify(scoring, { 'req-pass': true, 'req-fail': ['Assertion', 'nope'] })

  it('puts cdn_only tests in their own scope and leaves browser-only tests out', () => {
    expect(result['shared-cache'].total).toBe(6)
    expect(result['cdn-cache-control'].total).toBe(2)
  })

  it('counts setup, dependency and untested results as not scored, per kind', () => {
    expect(figuresOf(result['shared-cache'])).toEqual({
      requiredPass: 1, requiredFail: 1, requiredNotScored: 1, optionalPass: 0, optionalFail: 1, optionalNotScored: 1, checksYes: 0, checksNo: 1,
    })
    expect(figuresOf(result['cdn-cache-control'])).toMatchObject({ requiredPass: 1, optionalNotScored: 1 })
  })

  it('lists every test that neither passed nor answered a check, with what the client recorded', () => {
    expect(result['shared-cache'].failed.map((t) => [t.id, t.result])).toEqual([
      ['req-fail', 'fail'], ['req-setup', 'setup_fail'], ['opt-fail', 'optional_fail'], ['opt-dep', 'dependency_fail'],
    ])
    expect(result['shared-cache'].failed[0]!.outcome).toEqual(['Assertion', 'nope'])
    // Only the dependency that did not pass is named.
    expect(result['shared-cache'].failed[3]!.failedDependencies).toEqual(['req-setup'])
  })
})

// The real suite, when it is beside the project (as in CI) or named by CACHE_TESTS_DIR.
const projectRoot = path.resolve(import.meta.dirname, '../../..')
const suiteDir = path.resolve(projectRoot, process.env['CACHE_TESTS_DIR'] || '../shared/conformance/cache-tests')
const summarize = summarizeScriptFor(suiteDir)
const haveSuite = existsSync(path.join(suiteDir, 'tests/index.mjs')) && existsSync(summarize)

describe.skipIf(!haveSuite)('summaryLine against summarize.mjs on the published results', () => {
  it.each(PUBLISHED_CACHES)('%s: the same two lines, character for character', async (name) => {
    const file = path.join(suiteDir, 'results', `${name}.json`)
    const real = await loadScoring(suiteDir)
    const { readFile } = await import('node:fs/promises')
    const classification = classify(real, JSON.parse(await readFile(file, 'utf8')))
    const ours = SCOPES.map((scope) => summaryLine(scope, figuresOf(classification[scope]), name))
    const theirs = execFileSync(process.execPath, [summarize, suiteDir, '--line', `${name}=${file}`], { encoding: 'utf8' }).trim().split('\n')
    expect(ours).toEqual(theirs)
  })
})
