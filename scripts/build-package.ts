/**
 * `npm run build` (and `prepack`): the npm package in `dist/`: one ES module per source file, its `.d.ts`
 * and a source map with the source inlined (the tarball carries no `src/`).
 *
 * tsc alone does it (tsconfig.build.json): the sources use only erasable syntax, so its output is the source
 * minus types, module for module, which keeps the user's bundler free to drop what their worker does not
 * import (`sideEffects: false`); `rewriteRelativeImportExtensions` turns `./x.ts` into `./x.js` in the
 * JavaScript. Declarations keep `./x.ts` (TypeScript ≥ 5.0 resolves that to `./x.d.ts`, older ones do not),
 * so they are rewritten to `./x.js` here, as a hand-written package's declarations would say.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { projectRoot } from './build-worker.ts'
import { runNode } from './lib/run-node.ts'

export const distDir = path.join(projectRoot, 'dist')

/** A relative module specifier ending in `.ts` in an import, export or `import()` type. */
const TS_SPECIFIER = /((?:from|import\()\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g

/** Rewrites `./x.ts` specifiers to `./x.js` in every declaration file under `dir`; returns how many files changed. */
export async function rewriteDeclarationSpecifiers(dir: string): Promise<number> {
  let changed = 0
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue
    const file = path.join(entry.parentPath, entry.name)
    const text = await readFile(file, 'utf8')
    const rewritten = text.replace(TS_SPECIFIER, '$1$2.js$3')
    if (rewritten !== text) {
      await writeFile(file, rewritten)
      changed++
    }
  }
  return changed
}

/** Cleans `dist/` (no stale modules from renamed files reach the tarball) and compiles into it. */
export async function buildPackage(): Promise<void> {
  await rm(distDir, { recursive: true, force: true })
  const code = await runNode([path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'])
  if (code !== 0) throw new Error(`tsc -p tsconfig.build.json exited with ${code}`)
  await rewriteDeclarationSpecifiers(distDir)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await buildPackage()
    console.log(`built ${path.relative(projectRoot, distDir)}/`)
  } catch (error) {
    console.error((error as Error).message)
    process.exit(1)
  }
}
