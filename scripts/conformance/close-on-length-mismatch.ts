/**
 * @module Preload (`node --import`) for the cache-tests origin server: a response whose body is longer or
 * shorter than the `Content-Length` its test sets is sent with `Connection: close`.
 *
 * Why: `headers-store-Content-Length` sets `Content-Length: 10` on a 36-byte body. Node sends all 36 bytes,
 * so on a kept-alive connection the 26 extra bytes become the start of the next response, and the
 * worker's fetch of whichever test comes next on that connection fails ("Invalid response status line")
 * — a different test each run (seen on headers-store-Connection, -Content-Encoding, -Content-Range).
 * Closing that one connection keeps every test's own exchange unchanged and stops the leak into others.
 */
import http from 'node:http'
import { chunkLength, lengthMismatch } from './body-length.ts'

type End = (this: http.ServerResponse, ...args: unknown[]) => http.ServerResponse
const originalEnd = http.ServerResponse.prototype.end as unknown as End

http.ServerResponse.prototype.end = function endClosingOnMismatch(this: http.ServerResponse, ...args: unknown[]) {
  const [chunk, encoding] = args
  const isHead = this.req?.method === 'HEAD'
  if (!this.headersSent && !isHead && lengthMismatch(this.getHeader('content-length'), chunkLength(chunk, encoding))) {
    this.shouldKeepAlive = false
  }
  return originalEnd.apply(this, args)
} as typeof http.ServerResponse.prototype.end
