/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the worker in
 * workerd with the local stack (Upstash-compatible server, redis-server, demo origin). It asserts what a
 * person would see: the numbers in the page after sign-in, the same numbers moving after traffic, a purge
 * appearing in the log, attacker-chosen text rendered as text, no CSP violation, no sideways scrolling at
 * phone width. Screenshots go to test-artifacts/.
 *
 * Chromium is required, not optional: CI installs it (.ci/run), and a missing browser fails this file.
 */
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { projectRoot } from '../../scripts/build-worker.ts'
import { sendPurge, servedBy, startStack, TEST_INTERNAL_TOKEN, TEST_PURGE_SECRET, type Stack } from '../support/stack.ts'
import { signPurge } from '../../src/purge/signature.ts'

// The functions handed to page.evaluate and waitForFunction run in Chromium; the Node type program has no
// DOM library, so the two globals they touch are declared loosely here, for this file only.
declare const document: any, window: any

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = path.join(projectRoot, 'test-artifacts')
/** Generous: seven suites share two cores, and the page polls every 3 s. */
const SEEN_MS = 20_000

/** Attacker-chosen strings (a tag can hold any printable ASCII but comma and space). */
const XSS_TAG = '<img/src=x/onerror=window.__xss=1>'
const XSS_KEY = 'http://tiercache.test/<script>window.__xss=2</script>'

/** Records CSP violations the page reports, across navigations. */
const CSP_PROBE = `
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
  });
`

// Each step waits for what the page shows, up to SEEN_MS per wait; a step may wait several times.
describe('dashboard in Chromium', { timeout: 120_000 }, () => {
  let stack: Stack
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const consoleCsp: string[] = []
  const base = () => stack.workers[0]!.url

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH. This test does not skip.`)
    }
    mkdirSync(ARTIFACTS, { recursive: true })
    stack = await startStack()
    browser = await chromium.launch({ executablePath: CHROMIUM })
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    await context.addInitScript(CSP_PROBE)
    page = await context.newPage()
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) consoleCsp.push(message.text())
    })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.close()
  })

  /** Waits until the element's text is `expected` (as the person watching would, across polls). */
  const seeText = async (selector: string, expected: string) => {
    await page.waitForFunction(([s, e]) => document.querySelector(s!)?.textContent === e, [selector, expected], { timeout: SEEN_MS })
  }
  const textOf = (selector: string) => page.locator(selector).innerText()
  /** Requests through the worker (same isolate as the page's), returning which tier answered each. */
  const traffic = async (paths: string[]) => {
    const tiers: string[] = []
    for (const p of paths) {
      const res = await stack.workers[0]!.fetch(p)
      await res.arrayBuffer()
      expect(res.status).toBe(200)
      tiers.push(servedBy(res))
    }
    return tiers
  }

  it('a wrong token shows the error on the sign-in page', async () => {
    await page.goto(`${base()}/__tiercache/dashboard`)
    await page.fill('#token', 'not-the-token')
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('button[type=submit]')])
    expect(response.status()).toBe(401)
    await page.waitForSelector('#login-error')
    expect(await textOf('#login-error')).toBe("Wrong token: that is not this worker's INTERNAL_TOKEN.")
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-wrong-token.png') })
    expect(await context.cookies()).toEqual([])
  })

  it('signs in through the form and shows numbers', async () => {
    await page.fill('#token', TEST_INTERNAL_TOKEN)
    await Promise.all([page.waitForURL(`${base()}/__tiercache/dashboard`), page.click('button[type=submit]')])
    await page.waitForSelector('#hit-ratio')
    // No traffic yet: zero requests, and a ratio that is not a number yet.
    await seeText('#requests', '0')
    await seeText('#hit-ratio', '–')
    const [cookie] = await context.cookies()
    expect(cookie).toMatchObject({ name: 'tiercache_session', path: '/__tiercache', httpOnly: true, sameSite: 'Strict', secure: false })
    expect(cookie!.value).not.toContain(TEST_INTERNAL_TOKEN)
    expect(await page.locator('#hot-keys').innerText()).toBe('none yet')
    expect(await page.locator('#warming').innerText()).toBe('none yet')
  })

  it('the counters a person reads move with traffic: misses, then hits', async () => {
    const paths = ['/public/dash-1', '/public/dash-2', '/public/dash-3', '/public/dash-4']
    const first = await traffic(paths)
    expect(first).toEqual(['origin', 'origin', 'origin', 'origin'])
    await seeText('#requests', '4')
    await seeText('#hit-ratio', '0.0 %')
    await seeText('#offload', '0.0 %')
    const second = await traffic([...paths, ...paths])
    expect(second.every((tier) => tier === 'memory')).toBe(true)
    // 12 requests, 8 of them memory hits, 4 origin fetches.
    await seeText('#requests', '12')
    await seeText('#hit-ratio', '66.7 %')
    await seeText('#offload', '66.7 %')
    const memoryRow = await page.locator('#tiers tbody tr').first().locator('td').allInnerTexts()
    expect(memoryRow.slice(0, 3)).toEqual(['memory', '8', '66.7 %'])
    const originRow = await page.locator('#tiers tbody tr').nth(3).locator('td').allInnerTexts()
    expect(originRow.slice(0, 2)).toEqual(['origin', '4'])
    // Latency from Server-Timing: the four misses timed the origin, and the page shows its percentiles.
    const latencyRow = page.locator('#latency tbody tr').filter({ has: page.locator('td:first-child', { hasText: /^origin$/ }) })
    await page.waitForFunction(
      () => [...document.querySelectorAll('#latency tbody tr')].some((r) => r.children[0]?.textContent === 'origin' && r.children[1]?.textContent === '4'),
      undefined,
      { timeout: SEEN_MS }
    )
    const originLatency = await latencyRow.locator('td').allInnerTexts()
    expect(originLatency.slice(0, 2)).toEqual(['origin', '4'])
    for (const cell of originLatency.slice(2)) expect(cell).toMatch(/^[\d,]+(\.\d)?$/)
    // The sparkline has drawn points from the polls.
    expect(await page.locator('#spark-ratio polyline').getAttribute('points')).toMatch(/\d/)
    expect(await page.locator('#redis .badge').first().innerText()).toBe('closed')
  })

  it('a signed purge appears in the purge log, its attacker-chosen tag shown as text', async () => {
    const res = await sendPurge(stack.workers[0]!, { tags: [XSS_TAG], urls: ['/public/dash-1'] })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    await page.waitForFunction((tag) => document.querySelector('#purge-log')?.textContent?.includes(tag) === true, XSS_TAG, { timeout: SEEN_MS })
    const record = page.locator('#purge-log .record').first()
    expect(await record.locator('.record-head').innerText()).toMatch(/^#\d+ · hard · \d+(\.\d)? (ms|s) ago$/)
    expect(await record.locator('.record-scope').innerText()).toBe(`urls: http://tiercache.test/public/dash-1; tags: ${XSS_TAG}`)
    expect(await page.locator('#purge-log img').count()).toBe(0)
    expect(await page.evaluate(() => window.__xss)).toBeUndefined()
    expect(await textOf('#view-age')).toMatch(/^\d+(\.\d)? (ms|s)$/)
  })

  it('the hot keys from the traffic and a signed warming run appear as they happen', async () => {
    // Each of the four /public/dash-N keys was asked for three times (one miss, two memory hits).
    await page.waitForFunction(
      () => [...document.querySelectorAll('#hot-keys tbody tr')].some((r) => r.children[0]?.textContent === 'http://tiercache.test/public/dash-2' && r.children[1]?.textContent === '3'),
      undefined,
      { timeout: SEEN_MS }
    )
    const hotRow = await page.locator('#hot-keys tbody tr').filter({ hasText: 'http://tiercache.test/public/dash-2' }).locator('td').allInnerTexts()
    expect(hotRow[0]).toBe('http://tiercache.test/public/dash-2')
    expect(hotRow[1]).toBe('3')
    expect(hotRow[2]).toMatch(/^\d+(\.\d)? (B|KiB)$/)
    expect(hotRow[3]).toBe('memory')
    expect(await textOf('#hot-keys-scope')).toBe('fleet-wide')

    // A list of three with an origin budget of two: two warmed, one skipped over budget.
    const text = JSON.stringify({ urls: ['/public/dash-warm-1', '/public/dash-warm-2', '/public/dash-warm-3'], budget: 2 })
    const signature = await signPurge(TEST_PURGE_SECRET, text, Math.floor(Date.now() / 1000))
    const res = await stack.workers[0]!.fetch('/__tiercache/warm', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'tiercache-signature': signature },
      body: text,
    })
    expect(res.status).toBe(200)
    const receipt = (await res.json()) as { id: string; warmed: number; skippedOverBudget: number }
    expect(receipt).toMatchObject({ warmed: 2, skippedOverBudget: 1 })
    await page.waitForFunction((id) => document.querySelector('#warming .run-id')?.textContent?.startsWith(id) === true, receipt.id, { timeout: SEEN_MS })
    expect(await textOf('#warming .run-id')).toBe(`${receipt.id} · list · request`)
    expect(await textOf('#warming-state')).toBe('idle')
    // started, finished, URLs, origin budget, warmed, already fresh, failed, skipped (over budget)
    expect(await page.locator('#warming .run').first().locator('dd').allInnerTexts()).toEqual([
      expect.stringMatching(/^\d{4}-/),
      expect.stringMatching(/^\d{4}-/),
      '3',
      '2',
      '2',
      '0',
      '0',
      '1',
    ])
  })

  it('hot keys and warming runs with attacker-chosen text render it as text', async () => {
    // No request can put a raw `<` into a key (URLs arrive percent-encoded), so the real /stats answer is
    // extended in flight with a hostile key and a running run, to check the page writes them as text.
    await page.route('**/__tiercache/stats?*', async (route) => {
      const real = await route.fetch()
      const stats = (await real.json()) as Record<string, unknown>
      stats.hotKeys = [{ key: XSS_KEY, count: 42, bytes: 2048, tier: 'memory' }]
      stats.hotKeysScope = 'fleet'
      stats.warming = {
        running: true,
        runs: [{ id: 'run-1', startedAt: Date.now(), source: 'hot', trigger: 'cron', urls: 12, budget: 8, warmed: 7, alreadyFresh: 2, failed: 1, skippedOverBudget: 3 }],
      }
      await route.fulfill({ response: real, json: stats })
    })
    try {
      await page.waitForFunction((key) => document.querySelector('#hot-keys td')?.textContent === key, XSS_KEY, { timeout: SEEN_MS })
      expect(await page.locator('#hot-keys tbody tr td').allInnerTexts()).toEqual([XSS_KEY, '42', '2.0 KiB', 'memory'])
      expect(await page.locator('#hot-keys script').count()).toBe(0)
      expect(await textOf('#warming-state')).toBe('running')
      expect(await textOf('#hot-keys-scope')).toBe('fleet-wide')
      expect(await textOf('#warming .run-id')).toBe('run-1 · hot · cron · running')
      expect(await page.locator('#warming dd').allInnerTexts()).toEqual([expect.stringMatching(/^\d{4}-/), '–', '12', '8', '7', '2', '1', '3'])
      expect(await page.evaluate(() => window.__xss)).toBeUndefined()
    } finally {
      await page.unroute('**/__tiercache/stats?*')
    }
  })

  it('reports no CSP violation, and would report one (inline script injected into the page is blocked)', async () => {
    expect(await page.evaluate(() => window.__csp)).toEqual([])
    expect(consoleCsp).toEqual([])
    // The probe works and the policy bites: an injected inline script is refused and never runs.
    await page.evaluate(() => {
      const script = document.createElement('script')
      script.textContent = 'window.__injected = true'
      document.body.append(script)
    })
    await page.waitForFunction(() => window.__csp.length > 0, undefined, { timeout: SEEN_MS })
    expect((await page.evaluate(() => window.__csp))[0]).toMatch(/^script-src/)
    expect(await page.evaluate(() => window.__injected)).toBeUndefined()
  })

  it('writes desktop and phone screenshots; at 375 px nothing scrolls sideways', async () => {
    // Two fresh polls, so the picture shows what the worker reports (not the previous test's additions).
    const polls = Number(await page.evaluate(() => document.body.dataset.polls))
    await page.waitForFunction((n) => Number(document.body.dataset.polls) >= n + 2, polls, { timeout: SEEN_MS })
    const desktop = path.join(ARTIFACTS, 'dashboard-desktop.png')
    await page.screenshot({ path: desktop, fullPage: true })
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, storageState: await context.storageState() })
    try {
      await phone.addInitScript(CSP_PROBE)
      const small = await phone.newPage()
      await small.goto(`${base()}/__tiercache/dashboard`)
      await small.waitForFunction(() => Number(document.body.dataset.polls) >= 1 && document.querySelector('#purge-log .record') !== null, undefined, { timeout: SEEN_MS })
      // Long unbreakable text (keys, URLs, tags) is where a narrow layout overflows.
      await small.locator('#counters').evaluate((el) => el.closest('details')!.setAttribute('open', ''))
      const overflow = await small.evaluate(() => {
        const wide = [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > 375.5)
          .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`)
        return { scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10) }
      })
      expect(overflow).toEqual({ scrollWidth: 375, wide: [] })
      expect(await small.evaluate(() => window.__csp)).toEqual([])
      const phonePath = path.join(ARTIFACTS, 'dashboard-phone.png')
      await small.screenshot({ path: phonePath, fullPage: true })
      expect(existsSync(desktop) && existsSync(phonePath)).toBe(true)
      console.log(`dashboard screenshots: ${desktop} ${phonePath} ${path.join(ARTIFACTS, 'dashboard-wrong-token.png')}`)
    } finally {
      await phone.close()
    }
  })

  it('signing out ends the session: the page asks for the token and /stats refuses the browser', async () => {
    await Promise.all([page.waitForURL(`${base()}/__tiercache/dashboard`), page.click('#logout')])
    await page.waitForSelector('#token')
    expect(await context.cookies()).toEqual([])
    const status = await page.evaluate(async () => (await fetch('/__tiercache/stats')).status)
    expect(status).toBe(401)
  })
})
