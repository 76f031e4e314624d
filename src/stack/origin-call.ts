/**
 * @module One call from the stack to the origin (or the route handler), with one deadline that covers the
 * answer's headers and, for a body tiercache reads in order to store it, the body too.
 *
 * Origins misbehave in ways a cache must absorb (design.md §6, "no 500 from tiercache for any origin fault"):
 * - a status no HTTP message can carry (999, or a garbage status line that arrives as 2), or an interim 1xx
 *   handed back as if it were final (local workerd does this with `103 Early Hints`) → {@link OriginError}
 *   `invalid` (502): RFC 9110 §15 defines final statuses as 200–599 and a proxy cannot construct others;
 * - headers that never come, or a body that stalls or never ends while being read for storage → `timeout`
 *   (504);
 * - a body that breaks off (reset, fewer bytes than `Content-Length`) → `body` (502).
 * The caller turns these into a stale answer within `stale-if-error` where it may, else a clear 502/504;
 * nothing partial is ever stored. Bodies that will not be read whole stream to the client untouched: the
 * deadline stops once their headers have arrived.
 */
import { OriginError } from '../errors.ts'
import type { Produce } from './context.ts'
import { concatBytes } from '../body-stream.ts'
import { finalAfterInterim } from './interim.ts'

/** What reading a body up to a limit gave: all of it, or the first bytes and the rest still to come. */
export type BodyRead =
  | { complete: true; bytes: Uint8Array }
  | { complete: false; prefix: Uint8Array[]; rest: ReadableStreamDefaultReader<Uint8Array> }

/** Whether `status` is a final status a response can be built with (RFC 9110 §15). */
export const isFinalStatus = (status: number): boolean => Number.isInteger(status) && status >= 200 && status <= 599

export class OriginCall {
  readonly #controller = new AbortController()
  readonly #expired: Promise<never>
  readonly #timer: ReturnType<typeof setTimeout>

  constructor(timeoutMs: number) {
    let expire: (error: OriginError) => void = () => {}
    this.#expired = new Promise<never>((_, reject) => (expire = reject))
    // Nobody may be listening when it fires (the call already finished): that is not an error.
    this.#expired.catch(() => {})
    this.#timer = setTimeout(() => {
      const error = new OriginError(`origin did not answer within ${timeoutMs} ms`, 'timeout')
      this.#controller.abort(error)
      expire(error)
    }, timeoutMs)
  }

  /** Aborts when the deadline passes; handed to the origin fetch so its connection is dropped too. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Stops the deadline: the rest of the body streams to the client at the origin's pace. */
  release(): void {
    clearTimeout(this.#timer)
  }

  /**
   * Asks the origin and checks that what came back is a final answer tiercache can pass on.
   * @throws {OriginError} `timeout`, `network` (from the produce function) or `invalid`; other errors
   * (a route handler's own bug) are rethrown as they are.
   */
  async respond(produce: Produce, request: Request): Promise<Response> {
    let response: Response
    try {
      response = await Promise.race([produce(request, this.signal), this.#expired])
    } catch (error) {
      this.release()
      throw this.#asOriginError(error)
    }
    if (response.status >= 100 && response.status < 200) {
      // The runtime handed an interim response back as final (see interim.ts): read on to the final one.
      let final: Response | undefined
      try {
        final = await Promise.race([finalAfterInterim(response), this.#expired])
      } catch (error) {
        this.release()
        throw this.#asOriginError(error)
      }
      if (final && isFinalStatus(final.status)) return final
    }
    if (!isFinalStatus(response.status)) {
      this.release()
      void response.body?.cancel().catch(() => {})
      const what = response.status >= 100 && response.status < 200
        ? `an interim ${response.status} response as its final answer`
        : `status ${response.status}, which is not a valid HTTP status`
      throw new OriginError(`origin sent ${what}`, 'invalid')
    }
    return response
  }

  /**
   * Reads `body` until it ends or passes `limit` bytes, within the deadline. Past the limit the bytes read
   * so far and the reader are handed back, so the caller can stream the whole body on.
   * @throws {OriginError} `timeout` when the body stalls past the deadline, `body` when it breaks off
   */
  async read(body: ReadableStream<Uint8Array> | null, limit: number): Promise<BodyRead> {
    if (!body) {
      this.release()
      return { complete: true, bytes: new Uint8Array(0) }
    }
    const reader = body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    try {
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), this.#expired])
        if (done) break
        chunks.push(value)
        size += value.byteLength
        if (size > limit) {
          this.release()
          return { complete: false, prefix: chunks, rest: reader }
        }
      }
    } catch (error) {
      this.release()
      void reader.cancel().catch(() => {})
      const failure = this.#asOriginError(error)
      if (failure.kind === 'timeout') throw failure
      throw new OriginError(`origin body broke off after ${size} bytes: ${failure.message}`, 'body', { cause: error })
    }
    this.release()
    return { complete: true, bytes: concatBytes(chunks) }
  }

  #asOriginError(error: unknown): OriginError {
    if (this.signal.aborted && this.signal.reason instanceof OriginError) return this.signal.reason
    if (error instanceof OriginError) return error
    return new OriginError((error as Error)?.message ?? String(error), 'network', { cause: error })
  }
}
