/**
 * @module The dashboard's HTML: the sign-in form and the page itself, each one self-contained document
 * (inline CSS and script, system fonts, no third-party anything), and the security headers they go out
 * with.
 *
 * The Content-Security-Policy allows exactly the inline `<style>` and `<script>` shipped here, by their
 * SHA-256 (CSP3 §8.2 hash-source), so no injected markup could run or restyle anything even if escaping
 * failed somewhere; `connect-src 'self'` lets the script poll the stats; `form-action 'self'` and
 * `frame-ancestors 'none'` keep the forms from being re-targeted or framed (clickjacking).
 */
import { bytesToBase64 } from '../../codec.ts'
import { CLIENT_SCRIPT } from './client.ts'

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#5b6470;--line:#d9dde3;--accent:#2563eb;--ok:#15803d;--bad:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--card:#1a1f25;--fg:#e6e9ed;--muted:#9aa4b0;--line:#2c333b;--accent:#60a5fa;--ok:#4ade80;--bad:#f87171}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:anywhere}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
header h1{font-size:1.1rem;margin:0}
main{max-width:80rem;margin:0 auto;padding:1rem;display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,28rem),1fr))}
section{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;min-width:0}
section.wide{grid-column:1/-1}
h2{font-size:1rem;margin:0 0 .5rem}
.muted,.none{color:var(--muted)}
.none{margin:.25rem 0}
.big{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,8rem),1fr));gap:.5rem;margin:0 0 .5rem}
.big div{min-width:0}
.big dt{color:var(--muted);font-size:.8rem}
.big dd{margin:0;font-size:1.6rem;font-variant-numeric:tabular-nums}
.kv{display:grid;grid-template-columns:minmax(0,auto) minmax(0,1fr);gap:.15rem .75rem;margin:.25rem 0}
.kv dt{color:var(--muted)}
.kv dd{margin:0;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;font-size:.9rem;margin:.25rem 0}
th,td{text-align:left;padding:.25rem .35rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;overflow-wrap:normal}
.n{text-align:right;font-variant-numeric:tabular-nums}
td.n,td.k{white-space:nowrap}
.records{list-style:none;margin:.25rem 0;padding:0}
.record{border-top:1px solid var(--line);padding:.3rem 0}
.record p{margin:0}
.record-head{color:var(--muted);font-variant-numeric:tabular-nums}
.spark{fill:none;stroke:var(--accent);stroke-width:2;vector-effect:non-scaling-stroke}
.axis{stroke:var(--line);stroke-width:1;vector-effect:non-scaling-stroke}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,14rem),1fr));gap:.75rem}
.charts figure{margin:0;min-width:0}
.charts figcaption{color:var(--muted);font-size:.8rem}
.charts svg{display:block;width:100%;height:3rem}
.badge{display:inline-block;padding:0 .4rem;border-radius:.25rem;font-size:.85rem;border:1px solid currentColor}
.ok{color:var(--ok)}.bad{color:var(--bad)}
meter{width:100%;height:.9rem}
.runs{display:grid;gap:.5rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,15rem),1fr))}
.run{border:1px solid var(--line);border-radius:.4rem;padding:.4rem .6rem}
.run-id{margin:0;font-weight:600}
button{font:inherit;padding:.35rem .8rem;border-radius:.35rem;border:1px solid var(--line);background:var(--bg);color:var(--fg);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
form.inline{margin:0}
.login{max-width:24rem;margin:10vh auto;padding:1rem}
.login label{display:block;margin:.75rem 0 .25rem}
.login input{width:100%;font:inherit;padding:.45rem;border:1px solid var(--line);border-radius:.35rem;background:var(--card);color:var(--fg)}
.login button{margin-top:.75rem}
.error{color:var(--bad);font-weight:600}
.notice{border:1px solid var(--bad);border-radius:.4rem;padding:.5rem .75rem}
details summary{cursor:pointer;color:var(--muted)}
`

/** `text` with the five HTML-significant characters escaped, for element content and quoted attributes. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const sha256Base64 = async (text: string): Promise<string> => {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  return bytesToBase64(digest)
}

let policy: Promise<string> | undefined

/** The page's Content-Security-Policy, hashing the inline style and script once per isolate. */
export function contentSecurityPolicy(): Promise<string> {
  policy ??= Promise.all([sha256Base64(CLIENT_SCRIPT), sha256Base64(STYLE)]).then(([script, style]) =>
    [
      "default-src 'none'",
      `script-src 'sha256-${script}'`,
      `style-src 'sha256-${style}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; ')
  )
  return policy
}

/** Headers every dashboard document carries. */
export async function documentHeaders(): Promise<Record<string, string>> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': await contentSecurityPolicy(),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cache-control': 'no-store, private',
  }
}

const htmlDocument = (title: string, bodyAttributes: string, body: string, script = ''): string =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body${bodyAttributes}>
${body}${script ? `\n<script>${script}</script>` : ''}
</body>
</html>
`

/** What the sign-in page says besides the form. */
export interface LoginMessage {
  error?: string
  notice?: string
  /** Whether to show the form at all (not when no token is configured). */
  form?: boolean
}

/** The sign-in form: it POSTs the token to `<prefix>/dashboard`. */
export function loginPage(prefix: string, message: LoginMessage = {}): string {
  const action = escapeHtml(`${prefix}/dashboard`)
  const parts = ['<main class="login">', '<h1>tiercache dashboard</h1>']
  if (message.error) parts.push(`<p class="error" id="login-error" role="alert">${escapeHtml(message.error)}</p>`)
  if (message.notice) parts.push(`<p class="notice" id="login-notice">${escapeHtml(message.notice)}</p>`)
  if (message.form !== false) {
    parts.push(
      `<form method="post" action="${action}">`,
      '<label for="token">Internal token (<code>INTERNAL_TOKEN</code>)</label>',
      '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>',
      '<button class="primary" type="submit">Sign in</button>',
      '</form>',
      '<p class="muted">A session cookie (HttpOnly, SameSite=Strict, 12 h) keeps you signed in; it is not the token.</p>'
    )
  }
  parts.push('</main>')
  return htmlDocument('tiercache dashboard: sign in', '', parts.join('\n'))
}

/** The dashboard: empty sections that the script fills from the stats it polls every `pollMs`. */
export function dashboardPage(prefix: string, pollMs: number): string {
  const p = escapeHtml(prefix)
  const big = (id: string, label: string) => `<div><dt>${label}</dt><dd id="${id}">–</dd></div>`
  const body = `<header>
<h1>tiercache · this isolate</h1>
<span class="muted" id="poll-state" aria-live="polite">loading…</span>
<form class="inline" method="post" action="${p}/dashboard/logout"><button type="submit" id="logout">Sign out</button></form>
</header>
<p class="notice wide" id="signed-out" hidden>Your session has ended (it expired, or the token changed). <a href="${p}/dashboard">Sign in again</a>.</p>
<main>
<section class="wide" id="traffic" aria-labelledby="h-traffic">
<h2 id="h-traffic">Requests and hit ratio</h2>
<dl class="big">${big('requests', 'requests')}${big('hit-ratio', 'hit ratio')}${big('offload', 'origin offload')}${big('rate', 'request rate')}</dl>
<div class="charts">
<figure><div id="spark-ratio"></div><figcaption>hit ratio (0–100 %), last polls</figcaption></figure>
<figure><div id="spark-rate"></div><figcaption>requests per second, last polls</figcaption></figure>
</div>
<p class="muted">hits <span id="hits">–</span> · origin fetches <span id="origin-fetches">–</span></p>
</section>
<section aria-labelledby="h-tiers"><h2 id="h-tiers">Per tier</h2><div id="tiers"></div><div id="outcomes"></div></section>
<section aria-labelledby="h-latency"><h2 id="h-latency">Latency per tier (Server-Timing)</h2><div id="latency"></div></section>
<section aria-labelledby="h-redis"><h2 id="h-redis">Redis and the breaker</h2><div id="redis"></div></section>
<section aria-labelledby="h-purges"><h2 id="h-purges">Purge log</h2>
<p>view age (this isolate): <strong id="view-age">–</strong></p><div id="purge-view"></div><div id="purge-log"></div></section>
<section aria-labelledby="h-hot"><h2 id="h-hot">Hot keys <span class="muted" id="hot-keys-scope"></span></h2><div id="hot-keys"></div></section>
<section aria-labelledby="h-warming"><h2 id="h-warming">Warming <span class="muted" id="warming-state"></span></h2><div id="warming"></div></section>
<section aria-labelledby="h-memory"><h2 id="h-memory">Memory tier</h2><div id="memory"></div></section>
<section aria-labelledby="h-counters"><h2 id="h-counters">All counters</h2><details><summary>show</summary><div id="counters"></div></details></section>
</main>`
  return htmlDocument('tiercache dashboard', ` data-prefix="${p}" data-poll-ms="${pollMs}"`, body, CLIENT_SCRIPT)
}
