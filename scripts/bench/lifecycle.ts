/**
 * @module What the benchmark started, and stopping it: every child process, Miniflare instance and
 * server registers a stop function here; they run in reverse order on normal exit, on an error, and on
 * SIGINT/SIGTERM. Only things this process started are stopped, each by its own handle or PID.
 */

type Stop = () => Promise<void>

const stops: Array<{ label: string; stop: Stop }> = []
let stopping: Promise<void> | undefined

/** Registers a stop function; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(label: string, stop: Stop): () => Promise<void> {
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

/** Runs every registered stop function, newest first; errors are reported, not thrown. */
export function cleanupAll(): Promise<void> {
  stopping ??= (async () => {
    while (stops.length > 0) {
      const { label, stop } = stops.pop()!
      try {
        await withTimeout(stop(), 10_000, label)
      } catch (error) {
        console.error(`[bench] stopping ${label} failed: ${(error as Error).message}`)
      }
    }
  })()
  return stopping
}

function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not stop within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Installs SIGINT/SIGTERM handlers that clean up and exit (130 for SIGINT, 143 for SIGTERM). They stay
 * installed (`on`, not `once`): Miniflare's signal-exit hook re-raises a signal that no other listener
 * handles any more, which would kill this process before the cleanup finished.
 */
let received = false

/** True once SIGINT/SIGTERM arrived: errors after that are the run being torn down, not failures. */
export const interrupted = (): boolean => received

export function installSignalHandlers(): void {
  const handle = (signal: NodeJS.Signals, code: number) => {
    if (received) return
    received = true
    console.error(`\n[bench] ${signal}: stopping everything this run started…`)
    void cleanupAll().finally(() => process.exit(code))
  }
  process.on('SIGINT', () => handle('SIGINT', 130))
  process.on('SIGTERM', () => handle('SIGTERM', 143))
}
