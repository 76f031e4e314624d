/**
 * @module The first step of every signed webhook body (purge, warm): JSON text that must be one object with
 * known fields only. Each route then validates its own fields.
 */

/** A parse result: the value, or an error message meant for the caller of the webhook. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string }

/** Parses `text` as a JSON object whose every field is in `fields`. */
export function parseJsonObject(text: string, fields: ReadonlySet<string>): Parsed<Record<string, unknown>> {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { ok: false, error: 'body must be valid JSON' }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: 'body must be a JSON object' }
  const record = body as Record<string, unknown>
  for (const key of Object.keys(record)) if (!fields.has(key)) return { ok: false, error: `unknown field "${key}"` }
  return { ok: true, value: record }
}
