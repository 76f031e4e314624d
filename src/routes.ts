/**
 * @module Route rules: the first rule whose pattern matches the request path applies
 * (`/api/` is a prefix; `/assets/*` matches everything under `/assets/`; a pattern without either
 * matches that exact path).
 */
import type { RouteRule } from './options.ts'

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

/**
 * A per-user key component: SHA-256 of the identity, base64url, 128 bits. The raw credential never
 * enters a key, a tier or a log (design.md §4 rule 1).
 */
export async function identityHash(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)))
  let binary = ''
  for (const byte of digest.subarray(0, 16)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Reads the identity a per-user route keys on, or undefined when the request has none. */
export function readIdentity(request: Request, source: 'authorization' | `cookie:${string}`): string | undefined {
  if (source === 'authorization') return request.headers.get('authorization') ?? undefined
  const name = source.slice('cookie:'.length)
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined
  }
  return undefined
}
