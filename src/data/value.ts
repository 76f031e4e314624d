/**
 * @module Data values to bytes and back. A value is anything JSON can hold exactly (plain objects, arrays,
 * strings, finite numbers, booleans, null), or a whole `Uint8Array` / `ArrayBuffer`. Anything else is a
 * `TypeError` when it is stored, naming where in the value the problem is: a `Date` or `Map` would come back
 * as a string or `{}`, which is a corrupt entry in all but name.
 */

/** A value JSON holds exactly. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue | undefined }

/** What the data API stores. */
export type DataValue = JsonValue | Uint8Array | ArrayBuffer

/** How a value's bytes are to be read: `none` is a cached "not found" (the loader returned `undefined`). */
export type ValueKind = 'json' | 'bytes' | 'buffer' | 'none'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const EMPTY = new Uint8Array(0)
const texts = new WeakMap<Uint8Array, string>()

/** Checks that `value` round-trips through JSON unchanged. @throws {TypeError} */
function checkJson(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (Number.isFinite(value)) return
      throw new TypeError(`tiercache cannot store ${path} = ${value}: JSON has no NaN or Infinity; store null or a string instead`)
    case 'bigint':
      throw new TypeError(`tiercache cannot store ${path}, a bigint: store String(${path.split('.').at(-1)}) and parse it back with BigInt()`)
    case 'undefined':
      throw new TypeError(`tiercache cannot store ${path} = undefined inside an array: use null`)
    case 'function':
    case 'symbol':
      throw new TypeError(`tiercache cannot store ${path}, a ${typeof value}: store plain data (JSON, Uint8Array or ArrayBuffer)`)
  }
  if (value === null) return
  const object = value as object
  if (seen.has(object)) throw new TypeError(`tiercache cannot store ${path}: the value refers to itself (a cycle); store plain data`)
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    throw new TypeError(`tiercache stores binary data only as the whole value: ${path} is binary inside a JSON value; store it on its own, or base64 it`)
  }
  seen.add(object)
  if (Array.isArray(object)) {
    object.forEach((item, i) => checkJson(item, `${path}[${i}]`, seen))
  } else {
    const proto = Object.getPrototypeOf(object)
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor as { name?: string } | undefined)?.name || 'class instance'
      const hint = name === 'Date' ? 'date.toISOString()' : name === 'Map' ? 'Object.fromEntries(map)' : name === 'Set' ? '[...set]' : 'a plain object'
      throw new TypeError(`tiercache cannot store ${path}, a ${name}: JSON would not give it back; store ${hint} instead`)
    }
    for (const [key, item] of Object.entries(object)) {
      // An undefined property is left out, as JSON.stringify does: it reads back as absent, which it was.
      if (item !== undefined) checkJson(item, `${path}.${key}`, seen)
    }
  }
  seen.delete(object)
}

/**
 * The bytes and kind of `value`; `undefined` is a "not found".
 * @throws {TypeError} when the value cannot be stored exactly
 */
export function encodeValue(value: unknown): { kind: ValueKind; body: Uint8Array } {
  if (value === undefined) return { kind: 'none', body: EMPTY }
  if (value instanceof Uint8Array) return { kind: 'bytes', body: value.slice() }
  if (value instanceof ArrayBuffer) return { kind: 'buffer', body: new Uint8Array(value.slice(0)) }
  checkJson(value, 'value', new Set())
  return { kind: 'json', body: encoder.encode(JSON.stringify(value)) }
}

/** The value `body` holds; each call returns a new copy, so callers may change it freely. */
export function decodeValue(kind: ValueKind, body: Uint8Array): unknown {
  switch (kind) {
    case 'json': {
      // The text is kept per stored body (bodies are never changed once stored), so a hit only parses.
      let text = texts.get(body)
      if (text === undefined) texts.set(body, (text = decoder.decode(body)))
      return JSON.parse(text)
    }
    case 'bytes':
      return body.slice()
    case 'buffer':
      return body.slice().buffer
    case 'none':
      return undefined
  }
}
