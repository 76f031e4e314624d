import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FailedTest, TestSuite } from '../../../scripts/conformance/classify.ts'
import { readDeliberate, splitFailures } from '../../../scripts/conformance/deliberate.ts'

const suites: TestSuite[] = [{ id: 'other', name: 'Other', tests: [{ id: 'other-cookie' }, { id: 'other-set-cookie' }, { id: 'vary-match' }] }]
const failed = (id: string): FailedTest => ({ scope: 'shared-cache', kind: 'optimal', result: 'optional_fail', id, name: id, outcome: ['Assertion', 'x'], failedDependencies: [] })

async function withFile(content: unknown, run: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'deliberate-test-'))
  try {
    const file = path.join(dir, 'deliberate.json')
    await writeFile(file, JSON.stringify(content))
    await run(file)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('splitFailures', () => {
  it('separates deliberate failures (with their reason) from the rest, and finds entries that no longer fail', () => {
    const split = splitFailures([failed('other-cookie'), failed('vary-match')], { 'other-cookie': 'Cookie is a credential', 'other-set-cookie': 'never stored' })
    expect(split.deliberate.map((t) => [t.id, t.reason])).toEqual([['other-cookie', 'Cookie is a credential']])
    expect(split.other.map((t) => t.id)).toEqual(['vary-match'])
    expect(split.stale).toEqual(['other-set-cookie'])
  })
})

describe('readDeliberate', () => {
  it('reads test id → reason, skipping $comment', async () => {
    await withFile({ $comment: 'why this file exists', 'other-cookie': 'Cookie is a credential' }, async (file) => {
      expect(await readDeliberate(file, suites)).toEqual({ 'other-cookie': 'Cookie is a credential' })
    })
  })

  it('rejects an id the suite does not have (a typo or a renamed test)', async () => {
    await withFile({ 'other-cookies': 'typo' }, async (file) => {
      await expect(readDeliberate(file, suites)).rejects.toThrow(/other-cookies is not a test/)
    })
  })

  it('rejects an entry without a reason', async () => {
    await withFile({ 'other-cookie': ' ' }, async (file) => {
      await expect(readDeliberate(file, suites)).rejects.toThrow(/other-cookie needs a reason/)
    })
  })
})
