import { describe, expect, it } from 'vitest'
import { resolveOptions, UsageError } from '../../../scripts/conformance/options.ts'

const root = '/work/project'

describe('resolveOptions', () => {
  it('defaults to ../shared/conformance/cache-tests beside the project, the whole suite, no floor change', () => {
    expect(resolveOptions([], {}, root)).toEqual({
      suiteDir: '/work/shared/conformance/cache-tests',
      outDir: '/work/project/conformance-results',
      updateFloor: false,
      force: false,
      testId: undefined,
    })
  })

  it('takes CACHE_TESTS_DIR, relative to the project root', () => {
    expect(resolveOptions([], { CACHE_TESTS_DIR: 'vendor/cache-tests' }, root).suiteDir).toBe('/work/project/vendor/cache-tests')
    expect(resolveOptions([], { CACHE_TESTS_DIR: '/opt/cache-tests' }, root).suiteDir).toBe('/opt/cache-tests')
  })

  it('takes one test id from --id, --id= or the suite\'s own npm_config_id', () => {
    expect(resolveOptions(['--id', 'vary-match'], {}, root).testId).toBe('vary-match')
    expect(resolveOptions(['--id=vary-match'], {}, root).testId).toBe('vary-match')
    expect(resolveOptions([], { npm_config_id: 'vary-match' }, root).testId).toBe('vary-match')
    expect(resolveOptions([], { npm_config_id: '' }, root).testId).toBeUndefined()
  })

  it('refuses --force without --update-floor, --update-floor with one test, and unknown arguments', () => {
    expect(() => resolveOptions(['--force'], {}, root)).toThrow(UsageError)
    expect(() => resolveOptions(['--update-floor', '--id', 'x'], {}, root)).toThrow(/full run/)
    expect(() => resolveOptions(['--update-flor'], {}, root)).toThrow(/unknown argument "--update-flor"/)
    expect(() => resolveOptions(['--id'], {}, root)).toThrow(/--id needs a test id/)
    expect(resolveOptions(['--update-floor', '--force'], {}, root)).toMatchObject({ updateFloor: true, force: true })
  })
})
