/**
 * The status page in a real browser: Debian's chromium, driven by playwright-core (no browser
 * download), against the whole daemon and a real Redis. A device publishes; the messages appear in the
 * live tail (text as text, binary as hex), the counters and the device table move, and the topic
 * filter narrows the tail. A screenshot is saved to test/artifacts/status-page.png.
 * Skipped, with the reason, where no chromium is installed (`apt-get install chromium`).
 */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startTestDaemon } from '../support/daemon-under-test.js'
import { uniqueName } from '../support/env.js'
import { connectDevice } from '../support/ingress.js'
import { findBinary } from '../support/server-process.js'
import { waitUntil } from '../support/wait-until.js'

const executablePath = findBinary('chromium')
const skip = executablePath === null ? 'chromium is not installed (Debian package chromium)' : false
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url))

describe('status page - in headless chromium (redis)', { skip }, () => {
  let browser: Browser
  let page: Page
  let base: string
  let mqttUrl: string

  before(async () => {
    const started = await startTestDaemon({ core: { backend: 'redis' } })
    base = `http://127.0.0.1:${started.daemon.httpPort()}`
    mqttUrl = started.url
    browser = await chromium.launch({
      executablePath: executablePath!,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
  })

  after(async () => {
    await browser?.close()
  })

  it('status page - shows the gateway, then messages in the live tail and the counters moving', async () => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('requestfailed', (r) => {
      if (!r.url().includes('/events')) problems.push(`request failed: ${r.url()}`)
    })
    await page.goto(`${base}/`)
    await page.locator('#stream-state', { hasText: 'live' }).waitFor({ timeout: 15_000 })
    await page.locator('#gateway', { hasText: 'test-gw' }).waitFor()
    await page.locator('#core', { hasText: 'connected' }).waitFor()
    assert.equal(await page.locator('#readiness').textContent(), 'ready')

    const clientId = uniqueName('page-dev')
    const device = await connectDevice(mqttUrl, clientId)
    try {
      for (let i = 0; i < 5; i++) await device.publishAsync('shop/line1/temp', `21.${i}`, { qos: 1 })
      await device.publishAsync('shop/bin', Buffer.from([0, 1, 2, 255]), { qos: 1 })
      await page
        .locator('#tail tbody tr', { hasText: 'shop/line1/temp' })
        .first()
        .waitFor({ timeout: 10_000 })
      await page.locator('#tail tbody tr', { hasText: '21.4' }).waitFor()
      await page.locator('#tail tbody tr', { hasText: 'hex 000102ff' }).waitFor()
      await page.locator('#total-received', { hasText: '6' }).waitFor({ timeout: 10_000 })
      await page.locator('#total-forwarded', { hasText: '6' }).waitFor({ timeout: 10_000 })
      const deviceRow = page.locator('#devices tbody tr', { hasText: clientId })
      await deviceRow.waitFor()
      assert.match((await deviceRow.textContent()) ?? '', /6$/)

      // A filter narrows the tail to its topics.
      await page.fill('#filter', 'shop/bin')
      await page.click('#apply')
      await page.locator('#stream-state', { hasText: 'live' }).waitFor()
      await page.waitForFunction("document.querySelectorAll('#tail tbody tr').length === 0")
      await device.publishAsync('shop/line1/temp', '99.9', { qos: 1 })
      await device.publishAsync('shop/bin', Buffer.from([7]), { qos: 1 })
      await page.locator('#tail tbody tr', { hasText: 'hex 07' }).waitFor({ timeout: 10_000 })
      assert.equal(await page.locator('#tail tbody tr', { hasText: '99.9' }).count(), 0)

      // A bad filter gets its reason, and the tail stays as it was.
      await page.fill('#filter', 'a/#/b')
      await page.click('#apply')
      await page.locator('#tail-error', { hasText: 'filter' }).waitFor()
      await page.locator('#total-received', { hasText: '8' }).waitFor({ timeout: 10_000 })
      await page.fill('#filter', '#')
      await page.click('#apply')
      // Applying a filter reopens the page's event stream: what is published before the new stream
      // is open never reaches this page (a live tail, not a log), so publish until the tail shows it.
      await waitUntil(
        async () => {
          for (let i = 0; i < 5; i++) await device.publishAsync(`shop/line${i}/temp`, `2${i}.0`, { qos: 1 })
          return page
            .locator('#tail tbody tr', { hasText: 'shop/line4/temp' })
            .first()
            .waitFor({ timeout: 500 })
            .then(
              () => true,
              () => false,
            )
        },
        15_000,
        'the tail showing messages after the filter # was applied',
      )
      await mkdir(artifacts, { recursive: true })
      await page.screenshot({ path: `${artifacts}status-page.png`, fullPage: true })
    } finally {
      await device.endAsync()
    }
    assert.deepEqual(problems, [])
  })
})
