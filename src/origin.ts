/**
 * @module Origin fetch: builds the request tiercache sends to the origin and enforces a deadline.
 * Hop-by-hop headers are dropped (RFC 9110 §7.6.1) and headers that could change the origin's answer
 * without being part of the cache key are stripped (cache-poisoning defence, design.md §4 rule 2).
 */
import { OriginError } from './errors.ts'

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
 * Fetches from the origin with a deadline. Rejects with {@link OriginError} (`timeout` or `network`)
 * so callers can serve stale-if-error or answer 504/502.
 */
export async function fetchOrigin(request: Request, timeoutMs: number): Promise<Response> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    return await fetch(request, { signal })
  } catch (cause) {
    if (signal.aborted) throw new OriginError(`origin did not answer within ${timeoutMs} ms`, 'timeout', { cause })
    throw new OriginError(`origin unreachable: ${(cause as Error)?.message ?? String(cause)}`, 'network', { cause })
  }
}

/** Copies an origin response for the client, dropping hop-by-hop headers. */
export function toClientResponse(response: Response): Response {
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: withoutHopByHop(response.headers),
  })
}

/** The 502/504 answers tiercache gives when the origin fails and no stale copy may be served. */
export function originFailureResponse(error: OriginError): Response {
  const status = error.kind === 'timeout' ? 504 : 502
  return new Response(JSON.stringify({ error: status === 504 ? 'origin timeout' : 'origin unreachable', detail: error.message }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  })
}
