/**
 * @module Unsafe methods (POST, PUT, PATCH, DELETE and any method not known to be safe): passed through,
 * then, when the origin answered with a non-error status, the target URI and same-origin `Location` /
 * `Content-Location` are invalidated in every tier through the purge path (RFC 9111 §4.4), so every
 * isolate forgets them within δ. The invalidation is committed before the response is returned, so the
 * writer's next read cannot race it. An origin failure is a clear 502/504 and invalidates nothing.
 */
import { OriginError } from '../errors.ts'
import { LookupStatus } from '../observe/lookup-status.ts'
import { invalidationTargets } from '../policy/invalidation.ts'
import { cacheKey } from '../policy/key.ts'
import { originFailureResponse } from '../origin.ts'
import type { Produce, StackContext, WaitUntil } from './context.ts'
import { passThrough } from './forward.ts'
import { OriginCall } from './origin-call.ts'

export async function handleUnsafe(context: StackContext, request: Request, ctx: WaitUntil, produce: Produce): Promise<Response> {
  const status = new LookupStatus(context.stats.latency)
  status.note('bypass', { fwd: 'method' })
  const call = new OriginCall(context.options.originTimeoutMs)
  let response: Response
  try {
    response = await status.timed('origin', () => call.respond(produce, request))
    call.release()
  } catch (error) {
    if (!(error instanceof OriginError)) throw error
    context.stats.record('origin_errors')
    status.note('bypass', { detail: `origin-${error.kind}` })
    return originFailureResponse(error, status)
  }
  const targets = invalidationTargets(new URL(request.url), request.method, response.status, response.headers)
  if (targets.length > 0) {
    const urls = [...new Set(targets.map((u) => cacheKey(u, { ignoreQueryParams: context.options.ignoreQueryParams })))]
    const scope = { urls, tags: [], prefixes: [], all: false, soft: false }
    try {
      await status.timed('invalidate', () => context.fanout.purge(scope, `unsafe-${crypto.randomUUID()}`, ctx as never))
      context.stats.record('invalidated', urls.length)
    } catch (error) {
      console.warn(`[tiercache] invalidation after ${request.method} failed: ${(error as Error).message}`)
      status.note('bypass', { detail: 'invalidation-failed' })
      // Not recorded for other isolates; this one still forgets what it holds, so the writer's next read
      // here cannot get the old copy.
      await context.fanout.evictLocally(scope)
    }
  }
  return passThrough(response, status)
}
