/**
 * @module Origin fetch: builds the request tiercache sends to the origin and enforces a deadline.
 * Hop-by-hop headers are dropped (RFC 9110 §7.6.1) and headers that could change the origin's answer
 * without being part of the cache key are stripped (cache-poisoning defence, design.md §4 rule 2).
 */
import { OriginError } from './errors.ts'
import type { LookupStatus } from './observe/lookup-status.ts'
import { decorate } from './serve.ts'

/** Hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1), plus legacy ones seen in the wild. */
export const HOP_BY_HOP_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]

/** Returns a copy of `headers` without hop-by-hop fields, including those named in `Connection`. */
export function withoutHopByHop(headers: Headers): Headers {
  const out = new Headers(headers)
  const named = (headers.get('connection') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean)
  for (const name of [...HOP_BY_HOP_HEADERS, ...named]) out.delete(name)
  return out
}

/**
 * Builds the origin request for an incoming one: same method, path, query, body and end-to-end
 * headers, aimed at `originBase`. `Host` is the origin's (fetch sets it from the URL).
 */
export function buildOriginRequest(
  request: Request,
  originBase: string,
  transformHeaders: (headers: Headers) => Headers = (h) => h
): Request {
  const incoming = new URL(request.url)
  const target = new URL(originBase)
  const basePath = target.pathname.replace(/\/+$/, '')
  target.pathname = basePath + incoming.pathname
  target.search = incoming.search
  const headers = transformHeaders(withoutHopByHop(request.headers))
  headers.delete('host')
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
  return new Request(target.toString(), {
    method: request.method,
    headers,
    body: hasBody ? request.body : null,
    redirect: 'manual',
  })
}

/**
 * Fetches from the origin. The deadline is the caller's (the stack's {@link OriginCall} aborts `signal`);
 * a fetch that fails for any other reason rejects with {@link OriginError} `network`.
 */
export async function fetchOrigin(request: Request, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(request, { signal })
  } catch (cause) {
    if (signal.aborted && signal.reason instanceof OriginError) throw signal.reason
    throw new OriginError(`origin unreachable: ${(cause as Error)?.message ?? String(cause)}`, 'network', { cause })
  }
}

/** Client-facing summary per failure; `detail` says what the origin did. */
const FAILURE_ANSWERS: Record<OriginError['kind'], { status: 502 | 504; error: string }> = {
  timeout: { status: 504, error: 'origin timeout' },
  network: { status: 502, error: 'origin unreachable' },
  invalid: { status: 502, error: 'origin sent an invalid response' },
  body: { status: 502, error: 'origin response body failed' },
}

/**
 * The 502/504 answers tiercache gives when the origin fails and no stale copy may be served (RFC 9110
 * §15.6.3 502 Bad Gateway: "received an invalid response from an inbound server"; §15.6.5 504 Gateway
 * Timeout). Never stored, and never a 500: the fault is the origin's. `status`, when given, adds
 * `Cache-Status` and `Server-Timing`, as on every other answer.
 */
export function originFailureResponse(error: OriginError, status?: LookupStatus): Response {
  const { status: code, error: summary } = FAILURE_ANSWERS[error.kind]
  const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' })
  if (status) decorate(headers, status)
  return new Response(JSON.stringify({ error: summary, detail: error.message }), { status: code, headers })
}
