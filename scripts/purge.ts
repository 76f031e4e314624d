/**
 * Purge CLI: sends a signed purge to a tiercache worker.
 *
 *   npm run purge -- --tag product-42 --url /items/42 [--prefix /blog/] [--user 'Bearer alice'] [--everything] [--soft] [--id ID]
 *     [--endpoint http://127.0.0.1:8787] (or TIERCACHE_URL)   secret: --secret or PURGE_SECRET
 *
 * `--user` takes an identity as a per-user route reads it (the whole Authorization value, or the identity
 * cookie's value) and sends its hash (`{"users": [hash]}`): every cached copy of that user is purged.
 *
 * Prints the receipt; exits 0 on 200, 1 on any other answer, 2 on bad arguments.
 */
import { parseArgs } from 'node:util'
import { signPurge, SIGNATURE_HEADER } from '../src/purge/signature.ts'
import { identityHash } from '../src/routes.ts'

const usage = 'usage: npm run purge -- [--url PATH]... [--tag TAG]... [--prefix PATH]... [--user IDENTITY]... [--everything] [--soft] [--id ID] [--endpoint URL] [--secret S]'

function fail(message: string): never {
  console.error(`${message}\n${usage}`)
  process.exit(2)
}

let values
try {
  ;({ values } = parseArgs({
    options: {
      url: { type: 'string', multiple: true, default: [] },
      tag: { type: 'string', multiple: true, default: [] },
      prefix: { type: 'string', multiple: true, default: [] },
      user: { type: 'string', multiple: true, default: [] },
      everything: { type: 'boolean', default: false },
      soft: { type: 'boolean', default: false },
      id: { type: 'string' },
      endpoint: { type: 'string', default: process.env.TIERCACHE_URL ?? 'http://127.0.0.1:8787' },
      secret: { type: 'string', default: process.env.PURGE_SECRET },
      'internal-prefix': { type: 'string', default: process.env.INTERNAL_PREFIX ?? '/__tiercache' },
    },
    strict: true,
  }))
} catch (error) {
  fail((error as Error).message)
}
if (!values.secret) fail('no secret: pass --secret or set PURGE_SECRET')
if (!values.everything && values.url.length + values.tag.length + values.prefix.length + values.user.length === 0) fail('nothing to purge')
const users = await Promise.all(values.user.map(identityHash))

const body = JSON.stringify({
  ...(values.url.length ? { urls: values.url } : {}),
  ...(values.tag.length ? { tags: values.tag } : {}),
  ...(values.prefix.length ? { prefixes: values.prefix } : {}),
  ...(users.length ? { users } : {}),
  ...(values.everything ? { everything: true } : {}),
  ...(values.soft ? { soft: true } : {}),
  ...(values.id ? { id: values.id } : {}),
})
const target = `${values.endpoint.replace(/\/+$/, '')}${values['internal-prefix']}/purge`
try {
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: await signPurge(values.secret, body) },
    body,
    signal: AbortSignal.timeout(15_000),
  })
  console.log(`${res.status} ${target}`)
  console.log(await res.text())
  process.exit(res.status === 200 ? 0 : 1)
} catch (error) {
  console.error(`purge failed: ${(error as Error).message}`)
  process.exit(1)
}
