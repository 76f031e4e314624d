/**
 * @module Child processes of a conformance run: spawned with a registered stop (SIGTERM, then SIGKILL
 * after a grace period, by PID), so nothing outlives the run, whether it ends, fails or is interrupted.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { onCleanup, type Stop } from '../lib/lifecycle.ts'

/** How long a child gets to exit after SIGTERM before it is killed. */
const KILL_GRACE_MS = 3_000

/** A running child process this run started. */
export interface Child {
  process: ChildProcess
  /** Resolves with the exit code (or 1 when a signal ended it) once the child has exited. */
  exited: Promise<number>
  /** Stops the child (SIGTERM, then SIGKILL) and waits for it; safe to call more than once. */
  stop: Stop
}

/** Spawns `command` and registers its stop under `label`. */
export function spawnChild(label: string, command: string, args: string[], options: SpawnOptions): Child {
  const child = spawn(command, args, options)
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
    // A spawn failure (ENOENT) emits 'error' and never 'exit'.
    child.once('error', () => resolve(127))
  })
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined
  const stop = onCleanup(`${label} (pid ${child.pid ?? '?'})`, async () => {
    if (!running()) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => running() && child.kill('SIGKILL'), KILL_GRACE_MS)
    await exited
    clearTimeout(killer)
  })
  return { process: child, exited, stop }
}
