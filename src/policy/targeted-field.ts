/**
 * @module Targeted cache-control fields (`CDN-Cache-Control`, `Cloudflare-CDN-Cache-Control`) are Structured
 * Field Dictionaries (RFC 9213 §2.1, RFC 8941 §3.2), not `Cache-Control` lists: "If a targeted field in a
 * given response is empty, or a parsing error is encountered, that field SHOULD be ignored by the cache".
 * A directive whose value has the wrong type (`max-age="60"`, a String where an Integer is defined) is such
 * an error here too, so the whole field is ignored and the cache falls back to the next field in the list.
 *
 * This parser follows RFC 8941 §4.2.2 closely enough to tell a valid dictionary from an invalid one; it
 * keeps what caching needs (each key's bare item) and skips parameters and inner lists.
 */
import type { Directives } from './cache-control.ts'

/** Directives whose value RFC 9213 §2.1 defines as an Integer (delta-seconds, RFC 9111 §1.2.2). */
const INTEGER_DIRECTIVES = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error'])
/** Directives that carry a field-name list in `Cache-Control`; a String is accepted for them. */
const LIST_DIRECTIVES = new Set(['private', 'no-cache'])

type Item = { type: 'integer' | 'decimal' | 'string' | 'token' | 'bytes' | 'boolean' | 'inner-list'; value: string | boolean }

/** A dictionary or parameter key (RFC 8941 §3.1.2: `key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`). */
const KEY = /^[a-z*][a-z0-9_\-.*]*/

/** Why parsing stopped does not matter: any error makes the whole field ignored. */
class ParseError extends Error {}
const fail = (): never => {
  throw new ParseError()
}

/**
 * Parses a targeted field into directives, or returns undefined when the value is not a valid Structured
 * Field Dictionary or a caching directive has the wrong type (the field is then ignored, RFC 9213 §2.1).
 * Booleans become `true` (or are left out for `?0`), Integers their decimal text, Strings their content.
 * @example parseTargetedField('max-age=60, must-revalidate') // Map { 'max-age' => '60', 'must-revalidate' => true }
 * @example parseTargetedField('max-age="60"') // undefined
 */
export function parseTargetedField(value: string): Directives | undefined {
  try {
    const directives = new Map<string, string | true>()
    for (const [key, item] of parseDictionary(value)) {
      if (INTEGER_DIRECTIVES.has(key)) {
        if (item.type !== 'integer' || (item.value as string).startsWith('-')) return undefined
      } else if (LIST_DIRECTIVES.has(key)) {
        if (item.type !== 'boolean' && item.type !== 'string') return undefined
      }
      if (item.type === 'boolean') {
        if (item.value === true) directives.set(key, true)
        else directives.delete(key)
      } else if (item.type !== 'inner-list') {
        directives.set(key, item.value as string)
      }
    }
    return directives
  } catch (error) {
    if (error instanceof ParseError) return undefined
    throw error
  }
}

/** RFC 8941 §4.2.2: the members in order, a later duplicate key overwriting an earlier one. */
function parseDictionary(input: string): Map<string, Item> {
  const out = new Map<string, Item>()
  const text = input.replace(/^ +| +$/g, '')
  let i = 0
  if (text === '') return out
  for (;;) {
    const key = KEY.exec(text.slice(i))?.[0] ?? fail()
    i += key.length
    let item: Item = { type: 'boolean', value: true }
    if (text[i] === '=') {
      i++
      const parsed = text[i] === '(' ? innerList(text, i) : bareItem(text, i)
      item = parsed.item
      i = parsed.end
    }
    i = skipParameters(text, i)
    out.delete(key)
    out.set(key, item)
    i = skipOws(text, i)
    if (i >= text.length) return out
    if (text[i] !== ',') fail()
    i = skipOws(text, i + 1)
    if (i >= text.length) fail()
  }
}

const skipOws = (text: string, i: number): number => {
  while (text[i] === ' ' || text[i] === '\t') i++
  return i
}

function skipParameters(text: string, i: number): number {
  while (text[i] === ';') {
    i++
    while (text[i] === ' ') i++
    const key = KEY.exec(text.slice(i))?.[0] ?? fail()
    i += key.length
    if (text[i] === '=') i = bareItem(text, i + 1).end
  }
  return i
}

function innerList(text: string, start: number): { item: Item; end: number } {
  let i = start + 1
  for (;;) {
    while (text[i] === ' ') i++
    if (text[i] === ')') return { item: { type: 'inner-list', value: true }, end: skipParameters(text, i + 1) }
    i = skipParameters(text, bareItem(text, i).end)
    if (text[i] !== ' ' && text[i] !== ')') fail()
  }
}

function bareItem(text: string, i: number): { item: Item; end: number } {
  const rest = text.slice(i)
  let m: RegExpExecArray | null
  if (/^-?\d/.test(rest)) {
    // RFC 8941 §3.3.1, §3.3.2: an Integer has at most 15 digits, a Decimal at most 12 before the point and
    // 1–3 after it.
    const number = /^-?\d{1,12}\.\d{1,3}(?![\d.])/.exec(rest)?.[0] ?? /^-?\d{1,15}(?![\d.])/.exec(rest)?.[0] ?? fail()
    return { item: { type: number.includes('.') ? 'decimal' : 'integer', value: number }, end: i + number.length }
  }
  if (rest[0] === '"') {
    let value = ''
    for (let j = 1; j < rest.length; j++) {
      const c = rest[j] as string
      if (c === '\\') {
        const next = rest[++j]
        if (next !== '"' && next !== '\\') fail()
        value += next
      } else if (c === '"') {
        return { item: { type: 'string', value }, end: i + j + 1 }
      } else if (c < ' ' || c > '~') {
        fail()
      } else {
        value += c
      }
    }
    fail()
  }
  if ((m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(rest))) return { item: { type: 'token', value: m[0] }, end: i + m[0].length }
  if ((m = /^:[A-Za-z0-9+/=]*:/.exec(rest))) return { item: { type: 'bytes', value: m[0] }, end: i + m[0].length }
  if ((m = /^\?[01]/.exec(rest))) return { item: { type: 'boolean', value: m[0] === '?1' }, end: i + 2 }
  return fail()
}
