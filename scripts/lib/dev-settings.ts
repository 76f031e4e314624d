/**
 * @module What `npm run dev` sets and prints: the dev `INTERNAL_TOKEN` and `PURGE_SECRET` (taken from the
 * environment, else from `.dev.vars` — the file `wrangler dev` reads — else a fixed dev value), the worker
 * vars, and the ready-to-paste commands that work against the demo origin. The README test
 * (test/scripts/readme-examples.test.ts) uses the same values, so what is printed and documented runs.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** The dev values used when neither the environment nor `.dev.vars` sets them. */
export const DEV_INTERNAL_TOKEN = 'tiercache-dev-token'
export const DEV_PURGE_SECRET = 'tiercache-dev-purge-secret'

/** Route rules for the demo origin's personalised pages (README "Per-user and per-cohort caching"). */
export const DEV_ROUTES = JSON.stringify([
  { pattern: '/p/', perUser: { identity: 'authorization' } },
  { pattern: '/cohort/country', cohort: { headers: ['cf-ipcountry'] } },
  { pattern: '/cohort/ab', cohort: { cookies: ['ab'] } },
])

/**
 * Parses a `.dev.vars` file (dotenv syntax as wrangler reads it: `KEY=value`, `KEY="value"`, `# comments`).
 * Returns the variables it sets.
 */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (!match) continue
    let value = match[2]!.trim()
    const quote = value[0]
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) value = value.slice(1, -1)
    else value = value.replace(/\s+#.*$/, '')
    vars[match[1]!] = value
  }
  return vars
}

/** Where a secret came from, for the printout. */
export type Source = 'environment' | '.dev.vars' | 'dev default'

export interface DevSecrets {
  internalToken: string
  purgeSecret: string
  sources: { internalToken: Source; purgeSecret: Source }
}

/** The dev secrets: the environment wins over `.dev.vars`, which wins over the dev defaults. */
export function devSecrets(env: NodeJS.ProcessEnv, root: string): DevSecrets {
  const file = path.join(root, '.dev.vars')
  const fromFile = existsSync(file) ? parseDevVars(readFileSync(file, 'utf8')) : {}
  const pick = (name: string, fallback: string): [string, Source] =>
    env[name] ? [env[name]!, 'environment'] : fromFile[name] ? [fromFile[name]!, '.dev.vars'] : [fallback, 'dev default']
  const [internalToken, tokenSource] = pick('INTERNAL_TOKEN', DEV_INTERNAL_TOKEN)
  const [purgeSecret, secretSource] = pick('PURGE_SECRET', DEV_PURGE_SECRET)
  if (purgeSecret.length < 16) throw new Error(`PURGE_SECRET from the ${secretSource} must be at least 16 characters (the worker refuses shorter ones)`)
  return { internalToken, purgeSecret, sources: { internalToken: tokenSource, purgeSecret: secretSource } }
}

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`

/** The ready-to-paste commands `npm run dev` prints for a worker at `workerUrl`. */
export function devGuide(workerUrl: string, secrets: DevSecrets, internalPrefix = '/__tiercache'): string {
  const internal = `${workerUrl}${internalPrefix}`
  const token = shellQuote(secrets.internalToken)
  const secret = shellQuote(secrets.purgeSecret)
  return [
    `INTERNAL_TOKEN   ${secrets.internalToken}   (${secrets.sources.internalToken})`,
    `PURGE_SECRET     ${secrets.purgeSecret}   (${secrets.sources.purgeSecret})`,
    `dashboard        ${internal}/dashboard   (enter the INTERNAL_TOKEN once)`,
    `stats            curl -s -H "authorization: Bearer $INTERNAL_TOKEN" ${internal}/stats`,
    '',
    'Ready to paste (a shell with these two set runs every command below and in the README):',
    `  export INTERNAL_TOKEN=${token} PURGE_SECRET=${secret}`,
    `  curl -i ${workerUrl}/items/1                       # the demo origin's item 1 (Cache-Tag: item-1,items)`,
    `  curl -s -H "authorization: Bearer $INTERNAL_TOKEN" ${internal}/stats`,
    `  curl -s -H "authorization: Bearer $INTERNAL_TOKEN" '${internal}/stats?format=prometheus'`,
    `  npm run purge -- --tag item-1 --url /items/1 --endpoint ${workerUrl}`,
    `  BODY='{"urls":["/items/1","/items/2","/public/1"]}'; T=$(date +%s)`,
    `  SIG=$(printf '%s.%s' "$T" "$BODY" | openssl dgst -sha256 -hmac "$PURGE_SECRET" -hex | sed 's/^.* //')`,
    `  curl -s -X POST ${internal}/warm -H 'content-type: application/json' -H "tiercache-signature: t=$T,v1=$SIG" --data "$BODY"`,
  ].join('\n')
}
