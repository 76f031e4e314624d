import { describe, expect, it } from 'vitest'
import { ItemStore } from '../../../scripts/demo-origin/item-store.ts'
import { request, sendJson, useFreshOrigin } from './helpers.ts'

const origin = useFreshOrigin()
const items = (path = '') => `${origin().url}/items${path}`

describe('item reads', () => {
  it('serves a seeded item as tagged, cacheable JSON with a versioned ETag', async () => {
    const res = await request(items('/1'))
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('public, max-age=300')
    expect(res.headers['cache-tag']).toBe('item-1,items')
    expect(res.headers.etag).toBe('"1-v1"')
    expect(JSON.parse(res.text)).toEqual({ id: '1', version: 1, body: 'first item', serial: Number(res.headers['x-origin-serial']) })
  })

  it('answers 304 for the current ETag and 200 once the item changed', async () => {
    expect((await request(items('/1'), { headers: { 'if-none-match': '"1-v1"' } })).status).toBe(304)
    await sendJson(items('/1'), 'PUT', { body: 'new' })
    const res = await request(items('/1'), { headers: { 'if-none-match': '"1-v1"' } })
    expect(res.status).toBe(200)
    expect(res.headers.etag).toBe('"1-v2"')
  })

  it('answers a missing item 404 with the same tags, so a cached "not found" is purgeable', async () => {
    const res = await request(items('/404'))
    expect(res.status).toBe(404)
    expect(res.headers['cache-tag']).toBe('item-404,items')
    expect(res.headers['cache-control']).toBe('public, max-age=300')
  })
})

describe('item writes', () => {
  it('replaces with PUT, bumping the version', async () => {
    const res = await sendJson(items('/2'), 'PUT', { body: 'replaced' })
    expect(res.status).toBe(200)
    expect(res.headers['content-location']).toBe('/items/2')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['x-purge-status']).toBe('off')
    expect(JSON.parse(res.text)).toMatchObject({ id: '2', version: 2, body: 'replaced' })
    expect(JSON.parse((await request(items('/2'))).text)).toMatchObject({ version: 2, body: 'replaced' })
  })

  it('creates with PUT, answering 201 with Location', async () => {
    const res = await request(items('/new-one'), { method: 'PUT', body: 'plain text body' })
    expect(res.status).toBe(201)
    expect(res.headers.location).toBe('/items/new-one')
    expect(JSON.parse(res.text)).toMatchObject({ id: 'new-one', version: 1, body: 'plain text body' })
  })

  it('patches an existing item and 404s a missing one', async () => {
    const res = await sendJson(items('/3'), 'PATCH', { body: 'patched' })
    expect(JSON.parse(res.text)).toMatchObject({ version: 2, body: 'patched' })
    expect((await sendJson(items('/missing'), 'PATCH', { body: 'x' })).status).toBe(404)
  })

  it('deletes with 204, then 404s', async () => {
    const res = await request(items('/1'), { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(res.headers['x-purge-status']).toBe('off')
    expect((await request(items('/1'))).status).toBe(404)
    expect((await request(items('/1'), { method: 'DELETE' })).status).toBe(404)
  })

  it('never reuses a version after delete and re-create', async () => {
    await request(items('/1'), { method: 'DELETE' })
    const res = await sendJson(items('/1'), 'PUT', { body: 'again' })
    expect(res.status).toBe(201)
    expect(res.headers.etag).toBe('"1-v3"')
  })

  it('creates with POST /items, naming the new item in Location and Content-Location', async () => {
    const res = await sendJson(items(), 'POST', { body: 'posted' })
    expect(res.status).toBe(201)
    expect(res.headers.location).toBe('/items/4')
    expect(res.headers['content-location']).toBe('/items/4')
    expect((await request(items('/4'))).status).toBe(200)
  })

  it('enforces If-Match and If-None-Match: * with 412', async () => {
    expect((await request(items('/1'), { method: 'PUT', body: 'x', headers: { 'if-match': '"1-v9"' } })).status).toBe(412)
    expect((await request(items('/1'), { method: 'PUT', body: 'x', headers: { 'if-match': '"1-v1"' } })).status).toBe(200)
    expect((await request(items('/1'), { method: 'PUT', body: 'x', headers: { 'if-none-match': '*' } })).status).toBe(412)
    expect((await request(items('/9'), { method: 'DELETE', headers: { 'if-match': '*' } })).status).toBe(412)
  })

  it('rejects a JSON body without a string "body" field', async () => {
    expect((await sendJson(items('/1'), 'PUT', { text: 'x' })).status).toBe(400)
    const broken = await request(items('/1'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{' })
    expect(broken.status).toBe(400)
    expect(origin().data.get('1')?.version).toBe(1)
  })

  it('answers 405 with Allow for unsupported methods', async () => {
    const res = await request(items('/1'), { method: 'POST' })
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET, HEAD, PUT, PATCH, DELETE')
  })

  it('lets tests change data directly, which the next read reflects', async () => {
    origin().data.put('1', 'silently changed')
    expect(JSON.parse((await request(items('/1'))).text)).toMatchObject({ version: 2, body: 'silently changed' })
  })
})

describe('ItemStore', () => {
  it('keeps versions increasing across reset so an ETag never names two bodies', () => {
    const store = new ItemStore()
    store.put('1', 'changed') // v2
    store.reset() // back to seed content as v3, not v1
    expect(store.get('1')).toEqual({ id: '1', version: 3, body: 'first item' })
    store.put('1', 'changed again')
    expect(store.get('1')?.version).toBe(4)
  })

  it('keeps the version of an unchanged item on reset and drops extra items', () => {
    const store = new ItemStore()
    store.create('extra')
    store.reset()
    expect(store.get('2')?.version).toBe(1)
    expect(store.get('4')).toBeUndefined()
    expect(store.list()).toHaveLength(3)
  })

  it('hands out copies, so callers cannot mutate the store', () => {
    const store = new ItemStore()
    const item = store.get('1')
    if (item) item.body = 'mutated'
    expect(store.get('1')?.body).toBe('first item')
  })
})
