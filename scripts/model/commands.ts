/**
 * @module What each request outcome costs at Upstash, in commands and bytes: the numbers the cost model
 * multiplies by rates. The command counts are the code's own (test/scripts/model/commands.test.ts measures
 * them in workerd against the local Upstash server and fails when the code changes them); the byte sizes
 * are estimates of the REST bodies, named here so the model's bandwidth can be checked.
 */

/** Upstash commands per outcome. */
export const COMMANDS = {
  /** Served from the isolate's memory: no Upstash request. */
  memoryHit: 0,
  /** Served from the data centre's Cache API: no Upstash request. */
  edgeHit: 0,
  /** One lookup (a script returning the entry and the purge-log position). */
  redisHit: 1,
  /** The lookup, then the fenced fill (one script) in the background. */
  miss: 2,
  /** One purge-log read (one script), per isolate or per data centre per δ. */
  coherenceRead: 1,
  /** The scripted commit, then the receipt saved under the purge id. */
  purge: 2,
} as const

/** Bytes on the wire per command, both directions (estimates; see the module comment). */
export const WIRE_BYTES = {
  /** JSON command, key and HTTP headers of one REST request (the value, where one is sent, comes on top). */
  request: 250,
  /** HTTP headers and JSON of one answer (the value, where one is returned, comes on top). */
  response: 150,
  /** A caught-up purge-log read's answer: measured 58 B of body after a 1,500-purge storm (test/worker/purge-storm.test.ts). */
  logReadAnswer: 58,
  /** One purge record in the log: measured 153 B (153,186 B for 1,000 records, same test). */
  purgeRecord: 153,
} as const

/**
 * Bytes of an entry's Redis value for a body of `bodyBytes`: base64 of the envelope (metadata, then the
 * body; src/codec.ts), uncompressed (a compressible body costs less). `metaBytes` is the envelope's
 * metadata: 344 B is what the benchmark's fills measured (520 B per fill for 46-byte bodies).
 */
export const redisValueBytes = (bodyBytes: number, metaBytes: number): number => Math.ceil(((metaBytes + bodyBytes) * 4) / 3)
