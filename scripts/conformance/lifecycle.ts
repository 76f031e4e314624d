/**
 * @module What a conformance run started, and stopping it. Every child process, server and Miniflare
 * instance registers a stop function here as soon as it exists; they run newest first at the end of the
 * run, when it fails, and on SIGINT/SIGTERM (Ctrl-C). Only things this process started are stopped,
 * each by its own handle or PID — never by name.
 */

/** Stops one thing; must resolve once it is gone. */
export type Stop = () => Promise<void>

const stops: Array<{ label: string; stop: Stop }> = []
let stopping: Promise<void> | undefined
let received: NodeJS.Signals | undefined

/** How long one stop function may take before the run moves on to the next. */
const STOP_TIMEOUT_MS = 10_000

/** Registers `stop` under `label`; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(label: string, stop: Stop): Stop {
  const record = { label, stop }
  stops.push(record)
  let done: Promise<void> | undefined
  return () => {
    done ??= (async () => {
      const at = stops.indexOf(record)
      if (at >= 0) stops.splice(at, 1)
      await stop()
    })()
    return done
  }
}

/** Runs every registered stop function, newest first. Failures are reported, never thrown. */
export function cleanupAll(): Promise<void> {
  stopping ??= (async () => {
    while (stops.length > 0) {
      const { label, stop } = stops.pop()!
      try {
        await withTimeout(stop(), STOP_TIMEOUT_MS, label)
      } catch (error) {
        console.error(`[conformance] stopping ${label} failed: ${(error as Error).message}`)
      }
    }
  })()
  return stopping
}

/** The signal that interrupted the run, if any: errors after it are the teardown, not failures. */
export const interruptedBy = (): NodeJS.Signals | undefined => received

/**
 * Installs SIGINT/SIGTERM handlers that clean up and exit with 130/143. They stay installed (`on`, not
 * `once`): Miniflare's signal-exit hook re-raises a signal no other listener handles any more, which
 * would kill this process before the cleanup finished.
 */
export function installSignalHandlers(): void {
  const handle = (signal: NodeJS.Signals, code: number) => {
    if (received) return
    received = signal
    console.error(`\n[conformance] ${signal}: stopping everything this run started…`)
    void cleanupAll().finally(() => process.exit(code))
  }
  process.on('SIGINT', () => handle('SIGINT', 130))
  process.on('SIGTERM', () => handle('SIGTERM', 143))
}

function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not stop within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
