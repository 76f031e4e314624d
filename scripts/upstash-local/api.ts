/**
 * @module
 * Runs a planned request against Redis and shapes the Upstash response: status code and JSON body.
 *
 * @see reference `upstash-and-workers.md` §1.4 (shapes and status codes), §1.9 (pipeline and
 * transaction semantics), §6.3–§6.6
 */
import { HttpError, errorBody } from './errors.ts'
import { SSE_PATHS, commandName, refusalOf } from './commands.ts'
import { itemJson, itemsJson } from './reply-json.ts'
import { RedisHandshakeError, RedisUnavailableError } from './redis-connection.ts'
import { PoolClosedError } from './redis-pool.ts'
import type { Command, Plan } from './commands.ts'
import type { CommandTable, RedisBackend, Role } from './redis-backend.ts'
import type { RespReply } from './resp.ts'

/** The response for one API request. `wrote` tells the server to advance the sync token (§1.7). */
export type ApiResult = { readonly status: number; readonly json: string; readonly wrote: boolean }

/**
 * Executes `plan` with the connections of `role`. Redis error replies become 400 for single commands
 * and `{"error"}` items in pipelines; server-side refusals follow the same split (§6.4).
 * Throws {@link HttpError} for requests it rejects as a whole, and Redis connection errors as they are.
 */
export async function executePlan(backend: RedisBackend, role: Role, plan: Plan, base64: boolean): Promise<ApiResult> {
  const table = await backend.commandTable()
  const wrote = planWrites(plan, table)
  switch (plan.kind) {
    case 'path':
      checkPathCommand(plan.commands[0], table)
      return { ...(await runSingle(backend, role, plan.commands[0], base64)), wrote }
    case 'single':
      return { ...(await runSingle(backend, role, plan.commands[0], base64)), wrote }
    case 'pipeline':
      return { status: 200, json: itemsJson(await runPipeline(backend, role, plan.commands), base64), wrote }
    case 'multi-exec': {
      for (const command of plan.commands) {
        const refusal = refusalOf(command)
        if (refusal !== undefined) throw new HttpError(400, refusal)
      }
      const outcome = await backend.transaction(role, plan.commands)
      // A discarded transaction must be non-2xx, or the client crashes mapping a non-array body (§2.5).
      if (!outcome.applied) return { status: 400, json: errorBody(outcome.error), wrote }
      return { status: 200, json: itemsJson(outcome.replies, base64), wrote }
    }
  }
}

/** HTTP status for an error thrown while handling a request: 500 when Redis is unreachable (§7 H9). */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status
  return 500
}

/** Message for an error thrown while handling a request, prefixed so it is recognisable in client errors. */
export function messageOf(error: unknown): string {
  if (error instanceof HttpError) return error.message
  if (error instanceof RedisUnavailableError || error instanceof RedisHandshakeError || error instanceof PoolClosedError) {
    return `ERR upstash-local: Redis unavailable: ${error.message}`
  }
  return `ERR upstash-local internal error: ${error instanceof Error ? error.message : String(error)}`
}

async function runSingle(backend: RedisBackend, role: Role, command: Command, base64: boolean) {
  const refusal = refusalOf(command)
  if (refusal !== undefined) throw new HttpError(400, refusal)
  const [reply] = (await backend.run(role, [command])) as [RespReply]
  return { status: reply.kind === 'error' ? 400 : 200, json: itemJson(reply, base64) }
}

/** Refused commands get an error item in place; the rest run in one batch, in order (§7 P3). */
async function runPipeline(backend: RedisBackend, role: Role, commands: readonly Command[]): Promise<RespReply[]> {
  const refusals = commands.map(refusalOf)
  const runnable = commands.filter((_, i) => refusals[i] === undefined)
  const replies = await backend.run(role, runnable)
  let next = 0
  return refusals.map((refusal) =>
    refusal === undefined ? (replies[next++] as RespReply) : { kind: 'error' as const, message: refusal },
  )
}

/**
 * The path form accepts any segment as a command name, so "unknown path" (404, §7 H7) means a first
 * segment Redis does not know. SSE endpoints are not served (§1.10).
 */
function checkPathCommand(command: Command, table: CommandTable): void {
  const name = commandName(command)
  if (SSE_PATHS.has(name)) throw new HttpError(404, `ERR /${name} (Server-Sent Events) is not supported by upstash-local`)
  if (refusalOf(command) === undefined && !table.has(name)) {
    throw new HttpError(404, `ERR not found: /${name} is neither an endpoint nor a Redis command`)
  }
}

/** Whether any command of `plan` may write (what global mode sends to the primary). */
export function planWrites(plan: Plan, table: CommandTable): boolean {
  return plan.commands.some((command) => isWrite(command, table))
}

/** Anything not flagged `readonly` by Redis counts as a write; unknown commands too. */
function isWrite(command: Command, table: CommandTable): boolean {
  if (refusalOf(command) !== undefined) return false
  return !(table.get(commandName(command))?.readonly ?? false)
}
