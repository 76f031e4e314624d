/**
 * @module Stateful items: the one place the demo origin's content changes, so purge and invalidation can be
 * tested end to end. Reads are cacheable and tagged; every successful write bumps the version and calls the
 * purge webhook before answering, reporting the outcome in `X-Purge-Status`.
 *
 * Writes also carry what RFC 9111 §4.4 needs to invalidate without the webhook: the target URI itself, and
 * `Location` / `Content-Location` naming the item.
 */
import { header, jsonReply, problem, type HeaderMap, type OriginRequest, type Reply, type Route } from '../http.ts'
import { strongMatch } from '../conditional.ts'
import type { Item, ItemStore } from '../item-store.ts'
import type { PurgeNotifier } from '../purge-notifier.ts'
import { withId } from './policies.ts'

const itemPath = (id: string): string => `/items/${id}`
const itemEtag = (item: Item): string => `"${item.id}-v${item.version}"`

/** Headers every item read carries; the 404 carries them too, so a cached "not found" is purged by tag. */
const readHeaders = (id: string): HeaderMap => ({
  'Cache-Control': 'public, max-age=300',
  'Cache-Tag': `item-${id},items`,
})

/** Reads the new body: JSON `{ "body": "..." }`, or any other content type taken as plain text. */
function parseBody(req: OriginRequest): { body: string } | { error: string } {
  const text = new TextDecoder().decode(req.body)
  if (!/^application\/json\b/i.test(header(req, 'content-type') ?? '')) return { body: text }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && typeof (value as { body?: unknown }).body === 'string') {
      return { body: (value as { body: string }).body }
    }
  } catch {
    // fall through to the error below
  }
  return { error: 'expected JSON {"body": "<string>"}' }
}

/**
 * RFC 9110 §13.1.1 / §13.1.2 for writes: `If-Match` must strongly match the current ETag, and
 * `If-None-Match: *` means "only if it does not exist yet". Returns a 412 reply when the precondition fails.
 */
function preconditionFailed(req: OriginRequest, current: Item | undefined): Reply | undefined {
  const ifMatch = header(req, 'if-match')
  if (ifMatch !== undefined && !strongMatch(ifMatch, current && itemEtag(current))) {
    return problem(412, 'If-Match does not match the current version')
  }
  const ifNoneMatch = header(req, 'if-none-match')
  if (ifNoneMatch?.trim() === '*' && current !== undefined) return problem(412, 'item already exists')
  return undefined
}

/** The item routes, over `store`, notifying `purge` after each successful write. */
export function itemRoutes(store: ItemStore, purge: PurgeNotifier): Route[] {
  /** Runs the webhook for a changed item and answers with the write's result. */
  async function afterWrite(id: string, reply: Reply): Promise<Reply> {
    const status = await purge.notifyItem(id)
    return { ...reply, headers: { ...reply.headers, 'X-Purge-Status': String(status) } }
  }

  const written = (req: OriginRequest, item: Item, status: number, extra: HeaderMap = {}): Reply =>
    jsonReply({ ...item, serial: req.serial }, {
      'Cache-Control': 'no-store',
      ETag: itemEtag(item),
      'Content-Location': itemPath(item.id),
      ...extra,
    }, status)

  /** Shared shape of PUT/PATCH/DELETE: valid id, preconditions, then the change. */
  const write = (change: (req: OriginRequest, id: string) => Promise<Reply>) => (req: OriginRequest) =>
    withId(req, (id) => preconditionFailed(req, store.get(id)) ?? change(req, id))

  return [
    {
      methods: ['GET'],
      pattern: '/items/:id',
      // `?hold=<ms>` reads the item first and answers later, like an origin that queried its database and
      // is then slow to respond: the fenced-fill tests change the item while such a read is in flight.
      handle: async (req) => {
        const reply = withId(req, (id) => {
          const item = store.get(id)
          if (!item) return jsonReply({ error: 'not found', id, serial: req.serial }, readHeaders(id), 404)
          return jsonReply({ ...item, serial: req.serial }, { ...readHeaders(id), ETag: itemEtag(item) })
        })
        const hold = Number(req.query.get('hold') ?? 0)
        if (Number.isInteger(hold) && hold > 0 && hold <= 30_000) await new Promise((r) => setTimeout(r, hold))
        return reply
      },
    },
    {
      methods: ['PUT'],
      pattern: '/items/:id',
      handle: write(async (req, id) => {
        const parsed = parseBody(req)
        if ('error' in parsed) return problem(400, parsed.error)
        const { item, created } = store.put(id, parsed.body)
        const reply = created ? written(req, item, 201, { Location: itemPath(id) }) : written(req, item, 200)
        return afterWrite(id, reply)
      }),
    },
    {
      methods: ['PATCH'],
      pattern: '/items/:id',
      handle: write(async (req, id) => {
        const parsed = parseBody(req)
        if ('error' in parsed) return problem(400, parsed.error)
        const item = store.patch(id, parsed.body)
        return item ? afterWrite(id, written(req, item, 200)) : problem(404, `item ${id} not found`)
      }),
    },
    {
      methods: ['DELETE'],
      pattern: '/items/:id',
      handle: write(async (_req, id) => {
        const item = store.delete(id)
        return item ? afterWrite(id, { status: 204, headers: { 'Cache-Control': 'no-store' } }) : problem(404, `item ${id} not found`)
      }),
    },
    {
      methods: ['POST'],
      pattern: '/items',
      handle: async (req) => {
        const parsed = parseBody(req)
        if ('error' in parsed) return problem(400, parsed.error)
        const item = store.create(parsed.body)
        return afterWrite(item.id, written(req, item, 201, { Location: itemPath(item.id) }))
      },
    },
  ]
}
