/**
 * @module `Vary` endpoints (RFC 9111 §4.1): the stored response may only be reused for requests whose
 * listed headers match, so a cache must key variants apart, normalise what is safe (`Accept-Encoding`),
 * key unknown headers verbatim, and never store `Vary: *`.
 */
import { gzipSync } from 'node:zlib'
import { header, textReply, TEXT, type Route } from '../http.ts'
import { acceptsGzip, negotiateLanguage, type Language } from '../negotiation.ts'

const GREETINGS: Record<Language, string> = {
  en: 'hello in English',
  fr: 'bonjour en français',
  de: 'hallo auf Deutsch',
}

/** Repetitive enough that gzip clearly shrinks it, so a test can tell the codings apart by length too. */
const encodingBody = (serial: number): string =>
  `${'this body is compressible when the client accepts gzip. '.repeat(40)}\nserial ${serial}\n`

const SHARED = 'public, max-age=60'

/** The `/vary/*` routes. */
export function varyRoutes(): Route[] {
  return [
    {
      methods: ['GET'],
      pattern: '/vary/lang',
      handle: (req) => {
        const lang = negotiateLanguage(header(req, 'accept-language'))
        return textReply(req, GREETINGS[lang], {
          'Cache-Control': SHARED,
          Vary: 'Accept-Language',
          'Content-Language': lang,
        })
      },
    },
    {
      // Content-Encoding is part of the representation: a gzip variant must never reach a client that did
      // not accept it (RFC 9110 §8.4, §12.5.3).
      methods: ['GET'],
      pattern: '/vary/encoding',
      handle: (req) => {
        const plain = encodingBody(req.serial)
        const headers = { 'Content-Type': TEXT, 'Cache-Control': SHARED, Vary: 'Accept-Encoding' }
        if (!acceptsGzip(header(req, 'accept-encoding'))) return { status: 200, headers, body: plain }
        return { status: 200, headers: { ...headers, 'Content-Encoding': 'gzip' }, body: gzipSync(plain) }
      },
    },
    {
      // RFC 9111 §4.1: "A stored response with a Vary header field value containing a member "*" always
      // fails to match", so storing it is pointless; design §3 says never store it.
      methods: ['GET'],
      pattern: '/vary/star',
      handle: (req) => textReply(req, 'varies on everything', { 'Cache-Control': SHARED, Vary: '*' }),
    },
    {
      // An application header the cache knows nothing about: must be keyed verbatim.
      methods: ['GET'],
      pattern: '/vary/custom',
      handle: (req) => {
        const tenant = header(req, 'x-tenant') ?? 'none'
        return textReply(req, `tenant ${tenant}`, { 'Cache-Control': SHARED, Vary: 'X-Tenant' })
      },
    },
  ]
}
