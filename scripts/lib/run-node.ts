/**
 * @module Running one Node script as a child of a command-line run (`npm test`, `npm run coverage`): it
 * shares this terminal, and the run waits for its exit code.
 */
import { spawn } from 'node:child_process'
import { projectRoot } from '../build-worker.ts'

/**
 * Runs `node <args>` in the project root with this process's stdio; resolves with its exit code, or 1
 * when a signal ended it.
 */
export function runNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: 'inherit', env })
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}
