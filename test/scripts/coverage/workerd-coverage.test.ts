import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FileCoverageData } from 'istanbul-lib-coverage'
import { projectRoot, workerBundlePath } from '../../../scripts/build-worker.ts'
import { bundleCoverage } from '../../../scripts/coverage/bundle-coverage.ts'
import { readRawCoverage } from '../../../scripts/coverage/raw-coverage.ts'
import { MiniflareWithCoverage } from '../../support/workerd-coverage.ts'

const routeFile = path.join(projectRoot, 'src', 'purge', 'route.ts')
const routeLines = readFileSync(routeFile, 'utf8').split('\n')
/** 1-based line of the first line of src/purge/route.ts containing `text`. */
const lineOf = (text: string) => {
  const i = routeLines.findIndex((l) => l.includes(text))
  if (i < 0) throw new Error(`src/purge/route.ts no longer contains ${JSON.stringify(text)}`)
  return i + 1
}

const options = (bindings: Record<string, string>) => ({
  host: '127.0.0.1',
  port: 0,
  modules: true as const,
  scriptPath: workerBundlePath,
  compatibilityDate: '2026-07-01',
  // The origin is never reached here; it only has to be a valid URL.
  bindings: { ORIGIN_URL: 'http://127.0.0.1:9', ...bindings },
})

describe('workerd coverage: the bundle run in workerd, mapped back to src/', () => {
  let dir: string
  let route: FileCoverageData
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tiercache-workerd-coverage-'))
    const mf = new MiniflareWithCoverage(options({ PURGE_SECRET: 'a-secret-of-at-least-16', INTERNAL_TOKEN: 'internal' }), dir)
    // An unsigned purge: the route reads the body, fails the signature check and answers 401.
    const res = await mf.dispatchFetch('http://tiercache.test/__tiercache/purge', { method: 'POST', body: '{"urls":["/a"]}' })
    expect(res.status).toBe(401)
    await res.arrayBuffer()
    await mf.dispose()
    const { bundles } = await bundleCoverage(readRawCoverage(dir), path.join(projectRoot, 'src'))
    route = bundles[0]!.map.fileCoverageFor(routeFile).data
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const fn = (name: string) => {
    const key = Object.keys(route.fnMap).find((k) => route.fnMap[k]!.name === name)
    if (key === undefined) throw new Error(`no function ${name} in the coverage of src/purge/route.ts`)
    return route.f[key]
  }
  const statementsOn = (line: number) =>
    Object.keys(route.statementMap).filter((k) => route.statementMap[k]!.start.line === line).map((k) => route.s[k])
  const branchOn = (line: number, type: string) => {
    const key = Object.keys(route.branchMap).find((k) => route.branchMap[k]!.type === type && route.branchMap[k]!.loc.start.line === line)
    if (key === undefined) throw new Error(`no ${type} branch on src/purge/route.ts:${line}`)
    return route.b[key]
  }

  it('writes one raw record per worker process, for the bundle it ran', () => {
    const records = readRawCoverage(dir)
    expect(records).toHaveLength(1)
    expect(records[0]!.scriptPath).toBe(workerBundlePath)
    expect(records[0]!.functions.length).toBeGreaterThan(100)
  })

  it('counts the route handler that ran, and not the functions it never reached', () => {
    expect(fn('handlePurge')).toBe(1)
    expect(fn('purgeScope')).toBe(0)
    // `if (!signed) return json(…401)`: the if statement and its return, both run once.
    expect(statementsOn(lineOf("return json({ error: 'unauthorized' }, 401)"))).toEqual([1, 1])
    expect(statementsOn(lineOf('const parsed = parsePurgeBody(body)'))).toEqual([0])
  })

  it('shows the taken and the never-taken arm of a branch', () => {
    // if (!signed) return 401 → the "then" arm ran once, the fall-through never.
    expect(branchOn(lineOf('if (!signed)'), 'if')).toEqual([1, 0])
    // if (body === undefined) return 413 → never taken; the request went on.
    expect(branchOn(lineOf('if (body === undefined)'), 'if')).toEqual([0, 1])
  })

  it('counts module top-level code, because recording starts before the bundle runs', () => {
    expect(statementsOn(lineOf('const json = (body: unknown, status: number) =>'))[0]).toBe(1)
  })

  it('changes nothing and records nothing without a coverage directory', async () => {
    const plain = new MiniflareWithCoverage(options({}), null)
    const res = await plain.dispatchFetch('http://tiercache.test/__tiercache/health')
    await res.arrayBuffer()
    // No inspector is opened for a normal run.
    await expect(plain.getInspectorURL()).rejects.toThrow(/Inspector not enabled/)
    await plain.dispose()
    expect(readdirSync(dir)).toHaveLength(1)
  })
})
