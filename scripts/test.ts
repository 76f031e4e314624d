/**
 * `npm test`: everything a fresh clone needs to prove itself.
 *   1. makes sure redis-server answers (starts a throwaway one if not, and stops it afterwards);
 *   2. makes sure Chromium is there for the dashboard's browser test (installs Debian's when root, else says how);
 *   3. type-checks the worker (workers types only: no Node APIs can creep into src/) and the Node side;
 *   4. runs every vitest suite (unit, Upstash conformance against real Redis, workerd integration).
 * Extra arguments go to vitest, e.g. `npm test -- test/policy`.
 */
import path from 'node:path'
import { ensureChromium } from './lib/chromium.ts'
import { ensureRedisOrExit } from './lib/redis-process.ts'
import { runNode } from './lib/run-node.ts'
import { projectRoot } from './build-worker.ts'

const bin = (pkg: string, file: string) => path.join(projectRoot, 'node_modules', pkg, file)

function run(label: string, args: string[]): Promise<number> {
  console.log(`\n▶ ${label}`)
  return runNode(args)
}

const redis = await ensureRedisOrExit()
console.log(`redis ${redis.host}:${redis.port}${redis.started ? ' (started for this run)' : ' (already running)'}`)

// The whole suite needs it (the browser test fails, never skips, without it); a subset may not.
const subset = process.argv.length > 2
const chromium = ensureChromium()
if ('error' in chromium) {
  console.error(chromium.error)
  if (!subset) {
    await redis.stop()
    process.exit(1)
  }
}

let code = await run('typecheck src (workers runtime)', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json'])
if (code === 0) code = await run('typecheck scripts and tests (node)', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.node.json'])
if (code === 0) code = await run('vitest', [bin('vitest', 'vitest.mjs'), 'run', ...process.argv.slice(2)])
await redis.stop()
process.exit(code)
