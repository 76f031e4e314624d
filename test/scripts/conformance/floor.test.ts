import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { compareWithFloor, describeDrops, raiseFloor, readFloor, writeFloor, type Floor } from '../../../scripts/conformance/floor.ts'

const floor: Floor = { requiredPass: 136, optionalPass: 69, cdnRequiredPass: 8, cdnOptionalPass: 7, maxNotScored: 20 }

describe('compareWithFloor', () => {
  it('passes a run equal to the floor', () => {
    const comparisons = compareWithFloor({ ...floor }, floor)
    expect(comparisons.every((c) => c.ok)).toBe(true)
    expect(describeDrops(comparisons)).toEqual([])
  })

  it('passes a run better than the floor in every figure', () => {
    const better = { requiredPass: 140, optionalPass: 70, cdnRequiredPass: 10, cdnOptionalPass: 7, maxNotScored: 3 }
    expect(describeDrops(compareWithFloor(better, floor))).toEqual([])
  })

  it('names each figure that dropped, with both numbers', () => {
    const drops = describeDrops(compareWithFloor({ ...floor, requiredPass: 134, cdnOptionalPass: 6 }, floor))
    expect(drops).toEqual([
      'shared-cache required passed dropped: 134 < floor 136',
      'CDN-Cache-Control optional passed dropped: 6 < floor 7',
    ])
  })

  it('treats more not-scored tests as a regression, fewer as fine', () => {
    expect(describeDrops(compareWithFloor({ ...floor, maxNotScored: 21 }, floor))).toEqual(['not scored (both scopes) rose: 21 > floor 20'])
    expect(describeDrops(compareWithFloor({ ...floor, maxNotScored: 19 }, floor))).toEqual([])
  })
})

describe('raiseFloor', () => {
  it('raises figures that improved and keeps those that got worse', () => {
    const today = { ...floor, requiredPass: 140, optionalPass: 60, maxNotScored: 10 }
    const { floor: next, changes } = raiseFloor(today, floor, false)
    expect(next).toEqual({ ...floor, requiredPass: 140, maxNotScored: 10 })
    expect(changes).toEqual(['shared-cache required passed: 136 → 140', 'not scored (both scopes): 20 → 10'])
  })

  it('never lowers the floor without force', () => {
    const worse = { requiredPass: 100, optionalPass: 50, cdnRequiredPass: 0, cdnOptionalPass: 0, maxNotScored: 90 }
    expect(raiseFloor(worse, floor, false)).toEqual({ floor, changes: [] })
  })

  it('lowers it with force, and says so', () => {
    const { floor: next, changes } = raiseFloor({ ...floor, requiredPass: 130 }, floor, true)
    expect(next.requiredPass).toBe(130)
    expect(changes).toEqual(['shared-cache required passed: 136 → 130 (lowered with --force)'])
  })
})

describe('floor.json', () => {
  it('round-trips through writeFloor and readFloor', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'floor-test-'))
    try {
      const file = path.join(dir, 'floor.json')
      await writeFloor(file, floor)
      expect(await readFloor(file)).toEqual(floor)
      expect(JSON.parse(await readFile(file, 'utf8')).$comment).toMatch(/--update-floor/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rejects a missing or non-integer figure, naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'floor-test-'))
    try {
      const file = path.join(dir, 'floor.json')
      await writeFile(file, JSON.stringify({ ...floor, optionalPass: '69' }))
      await expect(readFloor(file)).rejects.toThrow(/optionalPass must be a non-negative integer/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('the committed floor is readable', async () => {
    const committed = await readFloor(path.resolve(import.meta.dirname, '../../../scripts/conformance/floor.json'))
    expect(committed.requiredPass).toBeGreaterThan(0)
  })
})
