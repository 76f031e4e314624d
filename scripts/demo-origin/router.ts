/**
 * @module A tiny path router: `:name` segments, exact methods, and a 405 with `Allow` when the path exists
 * but the method does not (RFC 9110 §15.5.6). Enough for a fixed set of demo endpoints, no dependency.
 */
import type { Handler, Route } from './http.ts'

/** The outcome of matching one request. */
export type RouteMatch =
  | { kind: 'found'; handle: Handler; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' }

interface CompiledRoute {
  route: Route
  regex: RegExp
  names: string[]
  methods: Set<string>
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function compile(route: Route): CompiledRoute {
  const names: string[] = []
  const source = route.pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return escapeRegex(segment)
      names.push(segment.slice(1))
      return '([^/]+)'
    })
    .join('/')
  const methods = new Set(route.methods)
  if (methods.has('GET')) methods.add('HEAD')
  return { route, regex: new RegExp(`^${source}$`), names, methods }
}

/**
 * Builds a matcher over `routes`; earlier routes win when patterns overlap.
 *
 * @example
 * const match = createRouter([{ methods: ['GET'], pattern: '/public/:id', handle }])
 * match('HEAD', '/public/7') // { kind: 'found', params: { id: '7' }, ... }
 */
export function createRouter(routes: readonly Route[]): (method: string, path: string) => RouteMatch {
  const compiled = routes.map(compile)
  return function match(method, path) {
    const allow = new Set<string>()
    for (const c of compiled) {
      const m = c.regex.exec(path)
      if (!m) continue
      if (!c.methods.has(method)) {
        for (const allowed of c.methods) allow.add(allowed)
        continue
      }
      const params: Record<string, string> = {}
      c.names.forEach((name, i) => {
        params[name] = decodeSegment(m[i + 1] ?? '')
      })
      return { kind: 'found', handle: c.route.handle, params }
    }
    return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow] } : { kind: 'not-found' }
  }
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}
