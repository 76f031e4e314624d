/**
 * @module Which arguments make `net.Server.prototype.listen` bind to the loopback interface only, used by
 * the listen-loopback.ts preload. Pure, so it is tested without patching Node.
 */

/** The only interface the cache-tests origin may listen on. */
export const LOOPBACK = '127.0.0.1'

/** True for the `port` argument forms of `listen()`: a number, or a string of digits (env vars are strings). */
const isPort = (value: unknown): boolean => typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))

/** Option-object keys that mean "not a TCP port on some host": pipes and inherited handles. */
const NOT_TCP_KEYS = ['path', 'fd', 'handle', '_handle']

/**
 * Returns `listen()` arguments that bind to {@link LOOPBACK} when the call names no host:
 * `listen()`, `listen(cb)`, `listen(port[, backlog][, cb])` and `listen({ port })`. Calls that name a
 * host, pipes (`listen('/tmp/sock')`) and handles are returned unchanged.
 */
export function loopbackListenArgs(args: readonly unknown[]): unknown[] {
  const [first, second] = args
  if (first === undefined || typeof first === 'function') return [0, LOOPBACK, ...args.slice(first === undefined ? 1 : 0)]
  if (isPort(first)) return typeof second === 'string' ? [...args] : [first, LOOPBACK, ...args.slice(1)]
  if (typeof first === 'object' && first !== null && !('host' in first) && !NOT_TCP_KEYS.some((key) => key in first)) {
    return [{ ...first, host: LOOPBACK }, ...args.slice(1)]
  }
  return [...args]
}
