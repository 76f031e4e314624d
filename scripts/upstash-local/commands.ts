/**
 * @module
 * Turns an HTTP request into Redis commands: which endpoint it targets, how its body and path become
 * arguments, and which commands the REST API refuses. Pure functions; no I/O.
 *
 * @see reference `upstash-and-workers.md` §1.1 (URL forms), §1.3 (argument types), §6.4 (refused commands)
 */
import { Buffer } from 'node:buffer'
import { HttpError } from './errors.ts'
import type { RespArg } from './resp.ts'

/** One Redis command: its name, then its arguments, in Redis order. */
export type Command = readonly RespArg[]

/** Which API endpoint a request targets, relative to the configured base path. */
export type Route =
  | { readonly kind: 'single' }
  | { readonly kind: 'pipeline' }
  | { readonly kind: 'multi-exec' }
  | { readonly kind: 'path'; readonly segments: readonly string[] }

/** What to run for one request. `path` commands are checked against Redis's command table later. */
export type Plan =
  | { readonly kind: 'single' | 'path'; readonly commands: readonly [Command] }
  | { readonly kind: 'pipeline' | 'multi-exec'; readonly commands: readonly Command[] }

/**
 * Commands that would leave state on a shared connection, block it, or hijack it; Upstash's REST API
 * does not offer them either (§1.9, §6.4). Values are the reason shown in the error.
 */
const REFUSED = new Map<string, string>([
  ...['multi', 'exec', 'discard', 'watch', 'unwatch'].map((n) => [n, 'use the /multi-exec endpoint'] as const),
  ...['select', 'auth', 'hello', 'quit', 'reset', 'client', 'readonly', 'readwrite', 'asking'].map(
    (n) => [n, 'connection state is managed by the server'] as const,
  ),
  ...['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'monitor'].map(
    (n) => [n, 'streaming commands are not available over REST'] as const,
  ),
  ...['sync', 'psync', 'replicaof', 'slaveof', 'shutdown'].map((n) => [n, 'not available over REST'] as const),
  ...['blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof'].map(
    (n) => [n, 'blocking commands are not available over REST'] as const,
  ),
])

/** Path-form names that Upstash serves as Server-Sent Events streams, which this server does not (§1.10). */
export const SSE_PATHS: ReadonlySet<string> = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'monitor'])

/** The lower-case command name, e.g. `"get"`. */
export function commandName(command: Command): string {
  const first = command[0]
  return (typeof first === 'string' ? first : Buffer.from(first ?? []).toString('utf8')).toLowerCase()
}

/** The error message for a command this server refuses, or `undefined` if it may run. */
export function refusalOf(command: Command): string | undefined {
  const name = commandName(command)
  let reason = REFUSED.get(name)
  // XREAD/XREADGROUP only block with the BLOCK option.
  if (reason === undefined && (name === 'xread' || name === 'xreadgroup')) {
    const blocks = command.some((arg, i) => i > 0 && typeof arg === 'string' && arg.toLowerCase() === 'block')
    if (blocks) reason = 'blocking commands are not available over REST'
  }
  return reason === undefined ? undefined : `ERR Command is not available: '${name}' (${reason})`
}

/** Maps a URL path to an endpoint, or `undefined` if it lies outside `basePath`. Path segments are percent-decoded. */
export function routeOf(pathname: string, basePath: string): Route | undefined {
  if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined
  const rest = pathname.slice(basePath.length)
  if (rest === '' || rest === '/') return { kind: 'single' }
  if (rest === '/pipeline') return { kind: 'pipeline' }
  if (rest === '/multi-exec') return { kind: 'multi-exec' }
  const raw = rest.slice(1).split('/')
  if (raw.at(-1) === '') raw.pop()
  try {
    return { kind: 'path', segments: raw.map((segment) => decodeURIComponent(segment)) }
  } catch {
    throw new HttpError(400, 'ERR malformed percent-encoding in the request path')
  }
}

/** The key used in request statistics: `/`, `/pipeline`, `/multi-exec` or `/<command>` for the path form. */
export function routeKey(route: Route): string {
  if (route.kind === 'single') return '/'
  if (route.kind === 'path') return `/${(route.segments[0] ?? '').toLowerCase()}`
  return `/${route.kind}`
}

/**
 * Builds the commands for a request. Throws {@link HttpError} 400 for malformed JSON or a body of the
 * wrong shape (§6.9), so nothing reaches Redis unless the whole request is well-formed.
 */
export function planRequest(route: Route, body: Buffer, query: URLSearchParams): Plan {
  switch (route.kind) {
    case 'single':
      return { kind: 'single', commands: [toCommand(parseJson(body), 'the request body')] }
    case 'pipeline':
    case 'multi-exec': {
      const value = parseJson(body)
      if (!Array.isArray(value) || value.length === 0) {
        throw new HttpError(400, `ERR ${route.kind} body must be a non-empty JSON array of commands, e.g. [["SET","k","v"],["GET","k"]]`)
      }
      return { kind: route.kind, commands: value.map((item, i) => toCommand(item, `command ${i + 1}`, true)) }
    }
    case 'path':
      return { kind: 'path', commands: [pathCommand(route.segments, body, query)] }
  }
}

/**
 * Path form: `/set/foo/bar`; `POST /set/foo` with the raw body (bytes, unchanged) as the value; and
 * query parameters after it, `?EX=100` becoming `EX 100` (§1.1). `_token` is the auth parameter (§1.2).
 */
function pathCommand(segments: readonly string[], body: Buffer, query: URLSearchParams): Command {
  const args: RespArg[] = [...segments]
  if (body.length > 0) args.push(new Uint8Array(body))
  for (const [key, value] of query) {
    if (key === '_token') continue
    args.push(key)
    if (value !== '') args.push(value)
  }
  return args
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw new HttpError(400, `ERR failed to parse the request body as JSON: ${(error as Error).message}`)
  }
}

/**
 * Validates one command array. Numbers become their decimal text (`String(n)`) and booleans
 * `"true"`/`"false"`, as `@upstash/redis` sends them unconverted (§1.3); anything else is refused.
 */
function toCommand(value: unknown, where: string, nested = false): Command {
  if (!Array.isArray(value) || value.length === 0 || (!nested && value.some(Array.isArray))) {
    const example = nested ? '["SET","k","v"]' : 'a single command such as ["SET","k","v"]'
    throw new HttpError(400, `ERR ${where} must be a non-empty JSON array: ${example}`)
  }
  return value.map((arg: unknown, i): string => {
    if (typeof arg === 'string') return arg
    if (typeof arg === 'number' || typeof arg === 'boolean') return String(arg)
    const kind = arg === null ? 'null' : Array.isArray(arg) ? 'array' : typeof arg
    throw new HttpError(400, `ERR ${where}: argument ${i + 1} is ${kind}; only strings, numbers and booleans are allowed`)
  })
}
