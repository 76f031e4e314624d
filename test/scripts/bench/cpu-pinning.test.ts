import { describe, expect, it } from 'vitest'
import { describePinning, pinnedCommand, planPinning } from '../../../scripts/bench/cpu-pinning.ts'
import { parseOptions } from '../../../scripts/bench/options.ts'

describe('benchmark CPU pinning', () => {
  it('is on by default and off with --no-pin', () => {
    expect(parseOptions([])).toMatchObject({ pin: true })
    expect(parseOptions(['--no-pin'])).toMatchObject({ pin: false })
    expect(planPinning(false)).toEqual({ off: 'turned off with --no-pin' })
  })

  it.runIf(process.platform === 'linux')('puts the load generator and the workers on different CPUs here', () => {
    const plan = planPinning(true)
    if ('off' in plan) throw new Error(`expected pinning on this machine: ${plan.off}`)
    expect(plan.loadGenerator).not.toBe(plan.workers)
    expect(describePinning(plan)).toContain(`CPU ${plan.workers}`)
  })

  it('wraps a command in taskset only when CPUs are given', () => {
    expect(pinnedCommand(undefined, 'node', ['a.ts'])).toEqual(['node', ['a.ts']])
    expect(pinnedCommand('1', 'node', ['a.ts'])).toEqual(['taskset', ['-c', '1', 'node', 'a.ts']])
  })
})
