/**
 * @module CPU pinning for the benchmark. On a 2-core machine the load generator and the worker under
 * test otherwise share both CPUs with everything else, and the scheduler moving them around made the
 * memory-hit / constant-worker ratio swing from 0.65 to 0.80 over five runs of the same code. Pinned (the
 * load generator, which is the benchmark's own process, on CPU 0; every workerd process and the Node
 * baseline server on CPU 1; the other services on any CPU) three runs gave 0.71 to 0.78: narrower, not
 * steady. The ratios are what the targets judge, and both sides of each get the same CPU. `--no-pin`
 * turns it off.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import os from 'node:os'

export interface Pinning {
  /** CPU list (taskset syntax) of the benchmark process, which generates the load. */
  loadGenerator: string
  /** CPU list of worker processes (and the workerd they start), and of the Node baseline server. */
  workers: string
  /** CPU list of the other services (Upstash-compatible server, demo origin, Node baseline). */
  others: string
}

/** The pinning this machine allows, or why there is none. */
export function planPinning(wanted: boolean): Pinning | { off: string } {
  if (!wanted) return { off: 'turned off with --no-pin' }
  if (process.platform !== 'linux') return { off: `not on Linux (${process.platform})` }
  const cpus = os.availableParallelism()
  if (cpus < 2) return { off: 'fewer than 2 CPUs' }
  if (spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status !== 0) return { off: 'taskset is not installed (util-linux)' }
  return { loadGenerator: '0', workers: '1', others: `0-${cpus - 1}` }
}

/** Pins every thread of this process (and the threads and children it starts later) to `cpus`. */
export function pinThisProcess(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' })
}

/** `command args…`, run on `cpus` when given. */
export function pinnedCommand(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]]
}

/** One line for the report. */
export const describePinning = (p: Pinning | { off: string }): string =>
  'off' in p
    ? `CPU pinning off: ${p.off}.`
    : `CPU pinning: the load generator on CPU ${p.loadGenerator}, every workerd process and the Node baseline on CPU ${p.workers}, the other services on CPUs ${p.others}.`
