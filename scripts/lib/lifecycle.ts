/**
 * @module What a script run (the benchmark, the conformance run) started, and stopping it. Every child
 * process, server and Miniflare instance registers a stop function here as soon as it exists; they run
 * newest first at the end of the run, when it fails, and on SIGINT/SIGTERM (Ctrl-C). Only things this
 * process started are stopped, each by its own handle or PID — never by name.
 */

/** Stops one thing; must resolve once it is gone. */
export type Stop = () => Promise<void>

const stops: Array<{ label: string; stop: Stop }> = []
let stopping: Promise<void> | undefined
let received: NodeJS.Signals | undefined
/** The run's name in messages (`[bench]`, `[conformance]`), set by {@link installSignalHandlers}. */
let tag = 'run'

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
        console.error(`[${tag}] stopping ${label} failed: ${(error as Error).message}`)
      }
    }
  })()
  return stopping
}

/** The signal that interrupted the run, if any: errors after it are the teardown, not failures. */
export const interruptedBy = (): NodeJS.Signals | undefined => received

/** True once SIGINT/SIGTERM arrived. */
export const interrupted = (): boolean => received !== undefined

/** The signals a run cleans up on, with the exit code it then ends with (128 + signal number). */
const SIGNALS: ReadonlyArray<[NodeJS.Signals, number]> = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]
const ownHandlers = new Set<NodeJS.SignalsListener>()

/**
 * Installs SIGINT/SIGTERM handlers that clean up and then exit with 130/143. They stay installed (`on`,
 * not `once`): Miniflare's signal-exit hook re-raises a signal that no other listener handles any more,
 * which would kill this process before the cleanup finished.
 * @param name the run's name in messages
 */
export function installSignalHandlers(name: string): void {
  tag = name
  for (const [signal, code] of SIGNALS) {
    const handler: NodeJS.SignalsListener = () => {
      if (received) return
      received = signal
      console.error(`\n[${tag}] ${signal}: stopping everything this run started…`)
      void cleanupAll().finally(() => process.exit(code))
    }
    ownHandlers.add(handler)
    process.on(signal, handler)
  }
}

/**
 * Removes the SIGINT/SIGTERM listeners a library added, keeping ours. Miniflare's exit hook kills workerd
 * and then calls `process.exit()` at once, which would end the run before its asynchronous cleanup
 * (the origin, upstash-local, the Redis keys, the temporary copy) ran; our handler disposes Miniflare as
 * part of that cleanup instead. Libraries' `exit` listeners stay, as a last resort. Call it after
 * creating such an object.
 */
export function reclaimSignals(): void {
  for (const [signal] of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!ownHandlers.has(listener)) process.removeListener(signal, listener)
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not stop within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
