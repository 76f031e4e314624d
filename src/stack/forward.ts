/**
 * @module Answers that go to the origin without the cache: bypassed routes, requests whose credentials the
 * stored copy may not answer, HEAD misses. The origin's answer streams to the client as it is (hop-by-hop
 * fields removed, observability headers added); an origin failure becomes a clear 502/504, never a 500.
 */
import { OriginError } from '../errors.ts'
import type { LookupStatus } from '../observe/lookup-status.ts'
import { originFailureResponse, withoutHopByHop } from '../origin.ts'
import { decorate } from '../serve.ts'
import type { Produce, RequestState, StackContext } from './context.ts'
import { OriginCall } from './origin-call.ts'
import { originRequest } from './origin-request.ts'

/** The origin's answer, streamed to the client with our headers added and hop-by-hop ones removed. */
export function passThrough(response: Response, status: LookupStatus, body: ReadableStream<Uint8Array> | null = response.body): Response {
  const headers = withoutHopByHop(response.headers)
  decorate(headers, status)
  return new Response(body, { status: response.status, statusText: response.statusText, headers })
}

/** Sends `request` to the origin as it is and streams the answer back. Failures become 502/504. */
export async function relay(context: StackContext, request: Request, produce: Produce, status: LookupStatus): Promise<Response> {
  const call = new OriginCall(context.options.originTimeoutMs)
  try {
    const response = await status.timed('origin', () => call.respond(produce, request))
    call.release()
    context.stats.record('origin_fetches')
    return passThrough(response, status)
  } catch (error) {
    if (!(error instanceof OriginError)) throw error
    context.stats.record('origin_errors')
    return originFailureResponse(error, status)
  }
}

/** Forwards the request to the origin unshared: no store, no stale. */
export function forward(context: StackContext, state: RequestState): Promise<Response> {
  return relay(context, originRequest(context, state.request, undefined), state.produce, state.status)
}

/** Requests with credentials that may not use the stored copy go to the origin, unshared. */
export function credentialMiss(context: StackContext, state: RequestState): Promise<Response> {
  state.status.note('memory', { fwd: 'request', detail: 'credentials' })
  return forward(context, state)
}

/** Requests the cache does not handle at all (a bypass route, no identity on a per-user route). */
export function bypass(context: StackContext, request: Request, produce: Produce, status: LookupStatus, reason: string): Promise<Response> {
  status.note('bypass', { fwd: 'bypass', detail: reason })
  status.outcome = 'bypass'
  context.stats.record('bypass')
  return relay(context, request, produce, status)
}
