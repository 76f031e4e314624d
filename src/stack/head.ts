/**
 * @module HEAD: answered from a fresh stored GET response in memory or at the edge (RFC 9110 §9.3.2: the
 * same header fields a GET would get, no body), otherwise forwarded to the origin as a HEAD and not stored
 * (a HEAD answer carries no body to store; RFC 9111 §4.3.5 lets it update a stored response's headers,
 * which tiercache leaves to the next GET).
 */
import { discardStream, type RequestState, type StackContext } from './context.ts'
import { forward } from './forward.ts'
import { hit } from './hit.ts'
import { usable } from './judge.ts'
import { memoryGet, readTier } from './lookup.ts'

export async function head(context: StackContext, state: RequestState): Promise<Response> {
  const now = context.options.now()
  const found = memoryGet(context, state, now)
  if (found && usable(state, found.entry, now) === 'fresh') return hit(context, state, found, now)
  const edge = context.tiers.edge
  if (edge) {
    const read = await readTier(context, state, edge)
    // Judged after the read, no earlier than the time the read admitted the entry at.
    const later = context.options.now()
    if (read && usable(state, read.entry, later) === 'fresh') return hit(context, state, read, later)
    discardStream(read)
  }
  state.status.note('memory', { fwd: 'method', detail: 'head-miss' })
  return forward(context, state)
}
