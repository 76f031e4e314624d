/**
 * The README's library snippets are the examples' own code, so they cannot drift: every code block after
 * `<!-- snippet: examples/<file> -->` equals that file, and one after `<!-- snippet: examples/<file>#<name> -->`
 * equals the lines between `// #region <name>` and `// #endregion <name>` in it.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectRoot } from '../../scripts/build-worker.ts'

interface Snippet {
  file: string
  region: string | undefined
  code: string
  line: number
}

const MARKER = /^<!-- snippet: ([^\s#]+)(?:#([\w-]+))? -->$/

/** Each marked snippet: the marker, then (after optional blank lines) one fenced code block. */
function readmeSnippets(readme: string): Snippet[] {
  const lines = readme.split('\n')
  const snippets: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]!.trim())
    if (!marker) continue
    let open = i + 1
    while (lines[open]?.trim() === '') open++
    if (!/^```\w*$/.test(lines[open] ?? '')) throw new Error(`README line ${i + 1}: a snippet marker must be followed by a code block`)
    const close = lines.findIndex((l, j) => j > open && l === '```')
    if (close < 0) throw new Error(`README line ${open + 1}: unclosed code block`)
    snippets.push({ file: marker[1]!, region: marker[2], code: lines.slice(open + 1, close).join('\n'), line: i + 1 })
  }
  return snippets
}

/** The lines between `#region name` and `#endregion name` comments (`//` or `#`), exclusive. */
function region(text: string, name: string): string {
  const lines = text.split('\n')
  const start = lines.findIndex((l) => new RegExp(`^\\s*(//|#) #region ${name}$`).test(l))
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^\\s*(//|#) #endregion ${name}$`).test(l))
  if (start < 0 || end < 0) throw new Error(`no region "${name}"`)
  return lines.slice(start + 1, end).join('\n')
}

describe('README snippets', () => {
  it('are copies of the example files they name', async () => {
    const snippets = readmeSnippets(await readFile(path.join(projectRoot, 'README.md'), 'utf8'))
    // Removing the markers would make this test pass vacuously: the examples must be in the README.
    expect(snippets.map((s) => s.file)).toEqual(expect.arrayContaining(['examples/hono-app/src/index.ts', 'examples/standalone-worker/wrangler.toml']))
    for (const snippet of snippets) {
      const text = (await readFile(path.join(projectRoot, snippet.file), 'utf8')).replace(/\n$/, '')
      const expected = snippet.region ? region(text, snippet.region) : text
      expect(snippet.code, `README line ${snippet.line}: ${snippet.file}${snippet.region ? `#${snippet.region}` : ''}`).toBe(expected)
    }
  })

  it('the reader finds a marked block and a named region, and refuses a marker without a block', () => {
    const readme = ['intro', '<!-- snippet: examples/a.ts#main -->', '', '```ts', 'const a = 1', '```', 'more'].join('\n')
    expect(readmeSnippets(readme)).toEqual([{ file: 'examples/a.ts', region: 'main', code: 'const a = 1', line: 2 }])
    expect(region(['x', '// #region main', 'const a = 1', '// #endregion main', 'y'].join('\n'), 'main')).toBe('const a = 1')
    expect(() => readmeSnippets('<!-- snippet: examples/a.ts -->\ntext')).toThrow(/must be followed by a code block/)
  })
})
