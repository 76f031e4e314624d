import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { cpuMicros, findDescendant } from '../../../scripts/bench/process-cpu.ts'

describe.runIf(process.platform === 'linux')('process CPU from /proc', () => {
  it('counts the CPU time of this process as it works', () => {
    const before = cpuMicros(process.pid)!
    let x = 0
    for (let i = 0; i < 5e7; i++) x += i % 7
    expect(x).toBeGreaterThan(0)
    expect(cpuMicros(process.pid)!).toBeGreaterThan(before)
  })

  it('finds a named descendant process, and nothing for a name that is not there', async () => {
    const child = spawn('sleep', ['5'])
    try {
      await new Promise((resolve) => child.once('spawn', resolve))
      expect(findDescendant(process.pid, 'sleep')).toBe(child.pid)
      expect(findDescendant(process.pid, 'no-such-process')).toBeUndefined()
      expect(cpuMicros(2 ** 22 + 12345)).toBeUndefined()
    } finally {
      child.kill('SIGKILL')
    }
  })
})
