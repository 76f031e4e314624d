/**
 * CLI for the demo origin, as `npm run dev` and manual testing start it:
 *
 *   node scripts/demo-origin/main.ts --port 8788 [--host 127.0.0.1] [--purge-url URL --purge-secret S] [--latency-ms N]
 *
 * Environment fallbacks: DEMO_ORIGIN_PORT, PURGE_URL, PURGE_SECRET. Prints the URL once listening and exits
 * cleanly on SIGINT/SIGTERM. Bad arguments exit with status 2 and a message saying what to fix.
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { purgeTargetProblem } from './purge-notifier.ts'
import { startDemoOrigin, type DemoOriginOptions } from './server.ts'

export const DEFAULT_PORT = 8788

export const USAGE = `usage: node scripts/demo-origin/main.ts [--port N] [--host H] [--purge-url URL --purge-secret S] [--latency-ms N]
  --port          port to listen on, 0 for any free port (env DEMO_ORIGIN_PORT, default ${DEFAULT_PORT})
  --host          interface to bind (default 127.0.0.1)
  --purge-url     worker purge route to call after item writes (env PURGE_URL)
  --purge-secret  secret that signs those calls (env PURGE_SECRET)
  --latency-ms    delay before every answer, e.g. 80 for the benchmark (default 0)`

/** A command-line mistake: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

function wholeNumber(name: string, raw: string, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new UsageError(`${name} must be a whole number 0..${max}, got ${JSON.stringify(raw)}`)
  return Number(raw)
}

/**
 * Turns argv and environment into start options; throws {@link UsageError} with a precise message.
 * Flags win over environment variables.
 */
export function parseCliArgs(argv: readonly string[], env: Record<string, string | undefined> = process.env): DemoOriginOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'purge-url': { type: 'string' },
        'purge-secret': { type: 'string' },
        'latency-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  if (values['help']) throw new UsageError('')
  const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined)

  const port = wholeNumber('--port', str(values['port']) ?? env['DEMO_ORIGIN_PORT'] ?? String(DEFAULT_PORT), 65535)
  const latency = str(values['latency-ms'])
  const purgeUrl = str(values['purge-url']) ?? (env['PURGE_URL'] || undefined)
  const purgeSecret = str(values['purge-secret']) ?? (env['PURGE_SECRET'] || undefined)
  if (purgeUrl !== undefined && purgeSecret === undefined) throw new UsageError('--purge-url needs --purge-secret (or PURGE_SECRET)')
  if (purgeSecret !== undefined && purgeUrl === undefined) throw new UsageError('--purge-secret needs --purge-url (or PURGE_URL)')
  if (purgeTargetProblem(purgeUrl, purgeSecret)) {
    throw new UsageError(`--purge-url must be an http(s) URL, got ${JSON.stringify(purgeUrl)}`)
  }

  const options: DemoOriginOptions = { port, host: str(values['host']) ?? '127.0.0.1' }
  if (latency !== undefined) options.latencyMs = wholeNumber('--latency-ms', latency, 600_000)
  if (purgeUrl !== undefined) Object.assign(options, { purgeUrl, purgeSecret })
  return options
}

/** Starts the origin from argv/env and stops it on SIGINT/SIGTERM. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let options: DemoOriginOptions
  try {
    options = parseCliArgs(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    if (error.message) console.error(`demo-origin: ${error.message}`)
    console.error(USAGE)
    process.exitCode = error.message ? 2 : 0
    return
  }
  const origin = await startDemoOrigin(options)
  console.log(`demo origin listening on ${origin.url}`)
  console.log(options.purgeUrl ? `purge webhook: ${options.purgeUrl}` : 'purge webhook: off (no --purge-url)')
  const stop = (signal: string) => {
    console.log(`demo origin stopping (${signal})`)
    origin.close().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`demo-origin: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  })
}
