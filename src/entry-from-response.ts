/**
 * @module Turning an origin response into a {@link CacheEntry}, or saying why it may not be shared.
 * Storability is RFC 9111 §3 for a shared cache (src/policy/storable.ts); freshness is §4.2; the
 * targeted `CDN-Cache-Control` fields (RFC 9213) decide what our tiers do while `Cache-Control` is
 * passed on to browsers untouched.
 *
 * The decision needs only the status and headers, so it is made before the body is read: a response that
 * will not be stored streams to the client without being buffered, and one that will gets its body read
 * (or streamed into the edge) by the caller, which attaches it with {@link withBody}.
 */
import { EntryFlag, type CacheEntry } from './entry.ts'
import { HOP_BY_HOP_HEADERS } from './origin.ts'
import { correctedInitialAge, freshnessLifetime, staleWindows } from './policy/freshness.ts'
import { parseRequestDirectives, selectTargetedDirectives, type Directives } from './policy/cache-control.ts'
import { UNSTORED_HEADERS, isStorable } from './policy/storable.ts'
import { isErrorStatus } from './policy/status.ts'
import { userTag } from './coherence/purge-record.ts'

/** Targeted cache-control fields we obey, most specific first (RFC 9213 §2). */
export const TARGETED_FIELDS: readonly string[] = ['cloudflare-cdn-cache-control', 'cdn-cache-control']

/** Response fields never stored: per-hop, per-response or recomputed by tiercache on every answer. */
const NEVER_STORED = new Set([
  ...HOP_BY_HOP_HEADERS,
  'set-cookie',
  'age',
  'content-length',
  'cache-status',
  'server-timing',
])

/** Inputs for {@link planEntry}. */
export interface FillContext {
  request: Request
  /** The response's status and headers; its body is not touched. */
  response: Pick<Response, 'status' | 'headers'>
  /** When the origin request was sent and the response headers arrived (RFC 9111 §4.2.3). */
  requestTime: number
  responseTime: number
  /** Route-level lifetime in seconds, used only when the origin gives no explicit freshness. */
  routeTtl: number | undefined
  routeTags: string[]
  perUser: boolean
  /** The per-user identity hash, when `perUser`: every such entry carries the user's purge tag. */
  identity?: string
  /** The key holds a cohort cookie: clients get the entry as `private` (Vary cannot name a cookie). */
  privateDownstream?: boolean
  /** The response answers a range request: a 206 may be stored (and its Content-Range kept). */
  partial?: boolean
  heuristic: { fraction: number; maxSeconds: number; errorMaxSeconds: number } | false
  maxBodyBytes: number
  purgeSeq: number
}

/**
 * Either an entry ready for its body (`entry.body` is empty until {@link withBody}), or the reason the
 * response is not shared.
 */
export type FillDecision =
  | {
      ok: true
      entry: CacheEntry
      directives: Directives
      /**
       * Fields left out of the entry because `private="…"` / `no-cache="…"` name them (RFC 9111 §5.2.2.4,
       * §5.2.2.7): they belong to this response's own client, not to later ones.
       */
      withheld: string[]
    }
  | { ok: false; reason: string }

const NO_BODY = new Uint8Array(0)

const splitTags = (headers: Headers): string[] => {
  const tags = new Set<string>()
  for (const t of (headers.get('cache-tag') ?? '').split(',')) if (t.trim()) tags.add(t.trim())
  for (const t of (headers.get('surrogate-key') ?? '').split(/\s+/)) if (t.trim()) tags.add(t.trim())
  return [...tags]
}

/** Decides, from its status and headers, whether `response` may be stored, and plans the entry if it may. */
export function planEntry(ctx: FillContext): FillDecision {
  const { request, response } = ctx
  const { directives, source } = selectTargetedDirectives(response.headers, TARGETED_FIELDS)
  const requestDirectives = parseRequestDirectives(request.headers)
  const credentials = !ctx.perUser && (request.headers.has('authorization') || request.headers.has('cookie'))
  // RFC 9111 §3.5 covers Authorization; tiercache treats Cookie the same way (design.md §4 rule 1):
  // a response to a request with credentials is shared only if it says so explicitly.
  const storability = isStorable({
    method: request.method,
    status: response.status,
    requestHeaders: credentials && !request.headers.has('authorization')
      ? withHeader(request.headers, 'authorization', 'cookie-credentials')
      : request.headers,
    responseHeaders: response.headers,
    directives,
    source,
    requestDirectives,
    // Per-user entries are this user's alone (keyed on the identity hash, never in the shared edge), so
    // the §3.5 credential rule and §5.2.2.7 `private` do not apply to them; `no-store` still does.
    options: {
      ...(ctx.perUser ? { allowAuthorized: true, allowPrivate: true } : {}),
      allowPartial: ctx.partial === true,
      heuristicErrors: ctx.heuristic !== false && ctx.heuristic.errorMaxSeconds > 0,
    },
  })
  if (!storability.storable) return { ok: false, reason: storability.reason }

  const declared = declaredLength(response.headers)
  if (declared !== undefined && declared > ctx.maxBodyBytes) return { ok: false, reason: 'too-large' }

  const freshness = freshnessLifetime(
    // RFC 9213 §2.2: under a targeted field, Expires is ignored too; responseTime stands in for a missing Date.
    { status: response.status, headers: response.headers, directives, source, responseTime: ctx.responseTime },
    ctx.heuristic
      ? {
          shared: true,
          heuristicFraction: ctx.heuristic.fraction,
          // A heuristically cached error is a short negative-cache window, never a day of 404s.
          heuristicMaxMs: (isErrorStatus(response.status) ? ctx.heuristic.errorMaxSeconds : ctx.heuristic.maxSeconds) * 1000,
        }
      : { shared: true, heuristicFraction: 0, heuristicMaxMs: 0 }
  )
  let lifetimeMs = freshness.lifetimeMs
  const explicit = freshness.source !== 'none' && freshness.source !== 'heuristic'
  if (!explicit && ctx.routeTtl !== undefined) lifetimeMs = ctx.routeTtl * 1000
  const windows = staleWindows(directives, requestDirectives)
  const hasValidators = response.headers.has('etag') || response.headers.has('last-modified')
  if (lifetimeMs <= 0 && !hasValidators) return { ok: false, reason: 'no-freshness' }

  const strip = new Set(storability.stripHeaders.map((h) => h.toLowerCase()))
  const headers: Array<[string, string]> = []
  response.headers.forEach((value, name) => {
    const lower = name.toLowerCase()
    if (!NEVER_STORED.has(lower) && !strip.has(lower)) headers.push([lower, value])
  })

  let flags = 0
  if (windows.mustRevalidate) flags |= EntryFlag.MustRevalidate
  if (windows.noCache) flags |= EntryFlag.NoCache
  if (directives.has('public') || directives.has('s-maxage') || directives.has('must-revalidate')) {
    flags |= EntryFlag.SharedWithCredentials
  }
  if (ctx.perUser) flags |= EntryFlag.PerUser
  if (ctx.privateDownstream) flags |= EntryFlag.PrivateDownstream

  const initialAge = correctedInitialAge({
    ageHeader: response.headers.get('age'),
    dateHeader: response.headers.get('date'),
    requestTime: ctx.requestTime,
    responseTime: ctx.responseTime,
  })
  const entry: CacheEntry = {
    kind: 'entry',
    status: response.status,
    headers,
    body: NO_BODY,
    bornAt: ctx.responseTime - initialAge,
    storedAt: ctx.responseTime,
    lifetimeMs: Math.max(0, lifetimeMs),
    swrMs: windows.swrMs,
    sieMs: windows.sieMs,
    flags,
    tags: [...new Set([...splitTags(response.headers), ...ctx.routeTags, ...(ctx.identity ? [userTag(ctx.identity)] : [])])],
    purgeSeq: ctx.purgeSeq,
  }
  return { ok: true, entry, directives, withheld: [...strip].filter((name) => !UNSTORED_HEADERS.includes(name)) }
}

/** The planned entry with its body. */
export const withBody = (entry: CacheEntry, body: Uint8Array): CacheEntry => ({ ...entry, body })

/** The declared `Content-Length` of a response, when it is a valid one (RFC 9110 §8.6). */
export function declaredLength(headers: Headers): number | undefined {
  const value = headers.get('content-length')
  return value !== null && /^\d{1,15}$/.test(value.trim()) ? Number(value) : undefined
}

const withHeader = (headers: Headers, name: string, value: string): Headers => {
  const copy = new Headers(headers)
  copy.set(name, value)
  return copy
}
