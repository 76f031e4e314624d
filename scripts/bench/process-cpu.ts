/**
 * @module CPU time of a worker's workerd process, read from `/proc` (Linux). Throughput on this 2-core
 * machine swings ±20 % between repetitions, because the load generator and the worker share the CPUs;
 * CPU microseconds per request, measured at the worker process, hold much steadier and say what the
 * worker itself costs. Elsewhere than Linux the figure is simply absent.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, 100 on Linux). */
let ticksPerSecond: number | undefined
const clockTicks = (): number => {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** `/proc/<pid>/stat` fields after the command name: [state, ppid, …]; utime and stime are fields 14 and 15. */
const statFields = (pid: number): { comm: string; fields: string[] } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const close = stat.lastIndexOf(')')
    return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') }
  } catch {
    return undefined
  }
}

/** The pid of the first process named `name` among the descendants of `rootPid`, or undefined. */
export function findDescendant(rootPid: number, name: string): number | undefined {
  let pids: number[]
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)
  } catch {
    return undefined
  }
  const parentOf = new Map<number, number>()
  const commOf = new Map<number, string>()
  for (const pid of pids) {
    const stat = statFields(pid)
    if (!stat) continue
    parentOf.set(pid, Number(stat.fields[1]))
    commOf.set(pid, stat.comm)
  }
  const descends = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === rootPid) return true
    return false
  }
  return pids.find((pid) => commOf.get(pid) === name && descends(pid))
}

/** User + system CPU time of `pid` in microseconds, or undefined when it cannot be read. */
export function cpuMicros(pid: number): number | undefined {
  const stat = statFields(pid)
  if (!stat) return undefined
  const ticks = Number(stat.fields[11]) + Number(stat.fields[12])
  return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicks() : undefined
}
