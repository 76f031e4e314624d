/**
 * @module The demo origin's request and reply shapes.
 *
 * Handlers are plain functions from an {@link OriginRequest} to a {@link Reply}: no framework, no streams,
 * so each endpoint reads as the policy it demonstrates. The server turns a reply into bytes on the wire and
 * owns the parts every endpoint shares (serial header, HEAD, 304, lengths).
 */
import type { IncomingHttpHeaders } from 'node:http'

/** Response header values: a list becomes several header lines (needed for `Set-Cookie`). */
export type HeaderMap = Record<string, string | readonly string[]>

/** What a handler answers. `body` is omitted on the wire for HEAD, 204, 205 and 304. */
export interface Reply {
  status: number
  headers: HeaderMap
  body?: string | Uint8Array
}

/** One incoming request as handlers see it. */
export interface OriginRequest {
  method: string
  /** The raw request target as received, query included. */
  url: string
  /** Path without the query string. */
  path: string
  query: URLSearchParams
  /** Node's lower-cased request headers (repeated fields joined with `, `, except `set-cookie`). */
  headers: IncomingHttpHeaders
  /** Values of the route's `:name` segments, already percent-decoded. */
  params: Record<string, string>
  /** This response's `X-Origin-Serial`: unique per response for the life of the process. */
  serial: number
  /** Request body bytes; empty for GET and HEAD. */
  body: Uint8Array
  /** Aborted when the client goes away or the server closes, so long waits end early. */
  signal: AbortSignal
}

/** A handler: sync or async so `/slow` and the item writes (which await the webhook) fit the same shape. */
export type Handler = (req: OriginRequest) => Reply | Promise<Reply>

/** An endpoint: which methods it answers and its path pattern (`:name` matches one segment). */
export interface Route {
  /** Methods answered; `HEAD` is implied wherever `GET` is listed (RFC 9110 §9.3.2). */
  methods: readonly string[]
  pattern: string
  handle: Handler
}

export const TEXT = 'text/plain; charset=utf-8'
export const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * A text reply whose body is `message` plus a `serial <n>` line, so a test holding only a body can still
 * tell which origin fetch produced it (the header alone would be refreshed by a 304, RFC 9111 §4.3.4).
 */
export function textReply(req: Pick<OriginRequest, 'serial'>, message: string, headers: HeaderMap = {}, status = 200): Reply {
  return {
    status,
    headers: { 'Content-Type': TEXT, ...headers },
    body: `${message}\nserial ${req.serial}\n`,
  }
}

/** A JSON reply. */
export function jsonReply(value: unknown, headers: HeaderMap = {}, status = 200): Reply {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: `${JSON.stringify(value)}\n` }
}

/** A client-error reply that no cache may keep, for bad parameters and unknown routes. */
export function problem(status: number, message: string, headers: HeaderMap = {}): Reply {
  return { status, headers: { 'Content-Type': TEXT, 'Cache-Control': 'no-store', ...headers }, body: `${message}\n` }
}

/** IMF-fixdate (RFC 9110 §5.6.7) for `ms`, truncated to whole seconds as HTTP dates are. */
export const httpDate = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toUTCString()

/** Request headers as single strings (repeated fields joined with `, `), for logs and `/echo`. */
export const flattenHeaders = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v]]))
  )

/** First value of a request header, or undefined. */
export function header(req: Pick<OriginRequest, 'headers'>, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Parses a whole-number query or path parameter within `[min, max]`; returns `fallback` when absent and
 * undefined when present but invalid, so the handler can answer 400.
 */
export function intParam(raw: string | null | undefined, min: number, max: number, fallback?: number): number | undefined {
  if (raw === null || raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) return undefined
  const n = Number(raw)
  return n >= min && n <= max ? n : undefined
}
