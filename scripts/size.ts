/**
 * `npm run size`: what a user's worker uploads, as `wrangler deploy --dry-run --outdir` reports it (total
 * and gzip, plain and `--minify`), for each example installed from the packed tarball, and for the Hono app
 * with only the middleware (its data-API route and import taken out). Prints a Markdown table for the README.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { installExample, pack, wranglerBuild, type InstalledExample } from './lib/examples.ts'

/** The Hono example without the data API: its `tiercache/data` import and the handler that uses it. */
export function withoutDataApi(file: string, text: string): string {
  if (file !== path.join('src', 'index.ts')) return text
  const stripped = text
    .replace(/^import \{ dataCache \} from 'tiercache\/data'\n/m, '')
    .replace(/\n\/\/ Values inside a handler[^\n]*\napp\.get\('\/items\/:id'[\s\S]*?\n\}\)\n/, '\n')
  if (stripped.includes('dataCache')) throw new Error('could not take the data API out of examples/hono-app/src/index.ts; update withoutDataApi')
  return stripped
}

const variants: Array<{ label: string; example: string; rewrite?: typeof withoutDataApi }> = [
  { label: 'Hono app, middleware + tiercacheRoutes, no data API', example: 'hono-app', rewrite: withoutDataApi },
  { label: 'Hono app, middleware + data API (examples/hono-app)', example: 'hono-app' },
  { label: 'stand-alone worker (examples/standalone-worker)', example: 'standalone-worker' },
]

const packDir = await mkdtemp(path.join(tmpdir(), 'tiercache-size-'))
try {
  const tarball = await pack(packDir)
  const rows: string[] = []
  for (const variant of variants) {
    const installed: InstalledExample = await installExample(variant.example, tarball, variant.rewrite)
    try {
      const plain = await wranglerBuild(installed.dir)
      const minified = await wranglerBuild(installed.dir, { minify: true })
      rows.push(`| ${variant.label} | ${plain.totalKiB} KiB | ${plain.gzipKiB} KiB | ${minified.totalKiB} KiB | ${minified.gzipKiB} KiB |`)
    } finally {
      await installed.remove()
    }
  }
  console.log('| Worker | `--dry-run` total | gzip | with `--minify` | gzip |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const row of rows) console.log(row)
} finally {
  await rm(packDir, { recursive: true, force: true })
}
