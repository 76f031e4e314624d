/**
 * @module Route rules: the first rule whose pattern matches the request path applies
 * (`/api/` is a prefix; `/assets/*` matches everything under `/assets/`; a pattern without either
 * matches that exact path).
 */
import { bytesToBase64Url } from './codec.ts'
import type { CohortOptions, RouteRule } from './options.ts'

/** Returns the first rule matching `path`, or undefined. */
export function matchRoute(routes: readonly RouteRule[], path: string): RouteRule | undefined {
  for (const rule of routes) {
    const pattern = rule.pattern
    if (pattern.endsWith('*')) {
      if (path.startsWith(pattern.slice(0, -1))) return rule
    } else if (pattern.endsWith('/')) {
      if (path.startsWith(pattern)) return rule
    } else if (path === pattern) {
      return rule
    }
  }
  return undefined
}

const encoder = new TextEncoder()

/** base64url (RFC 4648 §5, unpadded) of the first 128 bits of SHA-256 over `value`: 22 characters. */
async function digest128(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)))
  return bytesToBase64Url(digest.subarray(0, 16))
}

/**
 * A per-user key component: SHA-256 of the identity, base64url, 128 bits (22 characters). The raw
 * credential never enters a key, a tier or a log (design.md §4 rule 1). It is also what a per-user purge
 * names (`{"users": [hash]}`): the origin computes it over the same value (the whole `Authorization`
 * header, or the identity cookie's value).
 * @example await identityHash('Bearer alice') // 22 base64url characters
 */
export function identityHash(value: string): Promise<string> {
  return digest128(value)
}

/** What a per-user or per-cohort route adds to a request's key. */
export interface KeyParts {
  /** The identity hash on a per-user route; undefined when the request carries no identity. */
  identity?: string
  /** The cohort's id (a hash of its values) on a per-cohort route. */
  cohort?: string
  /** The cohort is keyed on something `Vary` cannot name (a cookie or a query value): the key holds it. */
  cohortInKey?: boolean
  /** The cohort holds a cookie: clients get the response as `private`. */
  cohortCookie?: boolean
}

/** Reads the values a cohort route keys on; absent ones count as absent (a cohort of their own). */
export function cohortMaterial(request: Request, cohort: Required<CohortOptions>): string {
  const url = new URL(request.url)
  const lines: string[] = []
  for (const name of cohort.headers) lines.push(`h:${name}=${request.headers.get(name)?.trim() ?? '\u0000'}`)
  for (const name of cohort.cookies) lines.push(`c:${name}=${readCookie(request, name) ?? '\u0000'}`)
  for (const name of cohort.query) lines.push(`q:${name}=${url.searchParams.get(name) ?? '\u0000'}`)
  return lines.join('\n')
}

/** The key parts a route adds to `request`, or undefined when the route adds none. */
export async function keyParts(request: Request, route: RouteRule | undefined): Promise<KeyParts | undefined> {
  if (!route?.perUser && !route?.cohort) return undefined
  const parts: KeyParts = {}
  if (route.perUser) {
    const raw = readIdentity(request, route.perUser.identity)
    if (raw) parts.identity = await identityHash(raw)
  }
  if (route.cohort) {
    const cohort = route.cohort as Required<CohortOptions>
    parts.cohort = await digest128(cohortMaterial(request, cohort))
    parts.cohortInKey = cohort.cookies.length + cohort.query.length > 0
    parts.cohortCookie = cohort.cookies.length > 0
  }
  return parts
}

/** Reads the identity a per-user route keys on, or undefined when the request has none. */
export function readIdentity(request: Request, source: 'authorization' | `cookie:${string}`): string | undefined {
  if (source === 'authorization') return request.headers.get('authorization') || undefined
  return readCookie(request, source.slice('cookie:'.length))
}

/** A cookie's value from the `Cookie` header (RFC 6265 §4.2.1), or undefined when absent or empty. */
function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined
  }
  return undefined
}
