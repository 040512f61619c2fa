'use strict';
// The Backups page in Debian's chromium, against real parts: the S3 server, a real Backstage
// backend with the backup plugin on PostgreSQL, and the plugin's app. An admin signs in as guest,
// clicks Back up catalog, watches the progress, finds the new backup with its entity counts,
// verifies it, downloads it and runs a restore drill. Run: `npm run test:browser` at the root.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const assert = require('node:assert/strict');
const { launch } = require('./lib/browser');
const { COUNTS } = require('./lib/catalog');
const { ensurePrerequisites, repoRoot } = require('./lib/prerequisites');
const { createRunner } = require('./lib/runner');
const { psql, startStack } = require('./lib/stack');

const SCREENSHOT = path.join(repoRoot, 'tests/artifacts/backups-page.png');
/** Rows of random text added to the catalog database, so a backup runs long enough to watch. */
const PADDING_ROWS = Number(process.env.BROWSER_TEST_PADDING_ROWS ?? 1_000_000);

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Kind → count from the row's "Component 40 · User 24 · …" line. */
function parseKinds(text) {
  const counts = {};
  for (const part of text.split('·')) {
    const match = /^\s*(\S+)\s+([\d,]+)\s*$/.exec(part);
    if (match) counts[match[1].toLowerCase()] = Number(match[2].replace(/,/g, ''));
  }
  return counts;
}

/** The left border colour of a health panel as [r, g, b]: the status colour. */
async function statusColour(page, testId) {
  const css = await page.getByTestId(testId).evaluate(el => getComputedStyle(el).borderLeftColor);
  return css.match(/\d+/g).slice(0, 3).map(Number);
}
const isRed = ([r, g]) => r > 150 && g < 100;
const isGreen = ([r, g, b]) => g > 120 && g > r + 60 && g > b + 60;

async function main() {
  const runner = createRunner();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-browser-'));
  const started = Date.now();
  let prerequisites;
  let stack;
  let browser;
  let page;
  let backupId;
  let keepWorkDir = false;

  await runner.step('prerequisites: chromium, SeaweedFS, s3-test-server, native engine', async () => {
    prerequisites = ensurePrerequisites();
  });

  await runner.step('start the S3 server, the Backstage backend on PostgreSQL and the app', async () => {
    stack = await startStack({ ...prerequisites, workDir });
    console.log(`# app ${stack.appUrl}, backend ${stack.backendUrl}, databases ${stack.prefix}*`);
  });

  const catalogCounts = {};
  await runner.step('the catalog ingests the test organisation', async () => {
    const expected = Object.values(COUNTS).reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 180_000;
    let seen = 0;
    while (Date.now() < deadline) {
      const response = await fetch(`${stack.backendUrl}/api/catalog/entities?fields=kind,metadata.name`, {
        headers: { Authorization: `Bearer ${stack.token}` },
      });
      assert.equal(response.status, 200, `catalog API answered ${response.status}`);
      const entities = await response.json();
      const ours = entities.filter(e => e.kind !== 'Location');
      seen = ours.length;
      if (seen >= expected) {
        for (const e of entities) catalogCounts[e.kind.toLowerCase()] = (catalogCounts[e.kind.toLowerCase()] ?? 0) + 1;
        break;
      }
      await sleep(1000);
    }
    assert.equal(seen, expected, `the catalog holds ${seen} of the ${expected} test entities`);
    for (const [kind, n] of Object.entries(COUNTS)) assert.equal(catalogCounts[kind.toLowerCase()], n, kind);
    // A catalog database of some size, so the backup runs long enough to be watched.
    psql(
      `CREATE TABLE browser_test_padding AS SELECT g AS id, md5(random()::text) || md5(random()::text) || ` +
        `md5(random()::text) || md5(random()::text) AS filler FROM generate_series(1, ${PADDING_ROWS}) g`,
      `${stack.prefix}catalog`,
    );
  });

  await runner.step('the guest signs in and the Backups page opens', async () => {
    browser = await launch(prerequisites.chromium);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('dialog', dialog => {
      console.log(`# browser dialog: ${dialog.message()}`);
      dialog.accept();
    });
    page.on('pageerror', error => console.log(`# page error: ${error.message}`));
    await page.goto(`${stack.appUrl}/backup`);
    const enter = page.getByRole('button', { name: /enter/i });
    await enter.waitFor({ timeout: 60_000 });
    await enter.click();
    await page.getByRole('button', { name: 'Back up catalog' }).waitFor({ timeout: 60_000 });
  });

  await runner.step('an empty store: no backups yet, health critical with the reason', async () => {
    await page.getByText('No backups yet').waitFor({ timeout: 30_000 });
    const banner = page.getByTestId('health-banner');
    await banner.getByText('Backups: Critical').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('health-summary').innerText(), /no complete backup/);
    const colour = await statusColour(page, 'health-banner');
    assert.ok(isRed(colour), `critical is red, not rgb(${colour})`);
  });

  await runner.step('Back up catalog shows live progress until the backup completes', async () => {
    // Record every progress line the page shows, however briefly.
    await page.evaluate(() => {
      window.__progress = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid="job-progress-backup"]');
        const button = [...document.querySelectorAll('button')].find(b => b.textContent.includes('Back up catalog'));
        if (el) window.__progress.push({ text: el.textContent, buttonDisabled: button?.disabled });
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Back up catalog' }).click();
    await page.getByTestId('job-progress-backup').waitFor({ timeout: 30_000 });
    const outcome = page.getByTestId('backup-outcome');
    await outcome.waitFor({ timeout: 300_000 });
    const text = await outcome.innerText();
    const progress = await page.evaluate(() => window.__progress);
    const distinct = [...new Set(progress.map(p => p.text))];
    console.log(`# progress seen: ${distinct.map(t => `"${t}"`).join(', ')}`);
    console.log(`# ${text}`);
    assert.match(text, /^Backup backstage-catalog-\d{8}_\d{6} done: [\d.]+ (B|KiB|MiB|GiB) stored in/);
    assert.ok(progress.length > 0, 'the progress was shown');
    assert.ok(progress.every(p => p.buttonDisabled), 'the button is disabled while the backup runs');
    // At least one update from the middle of the run: a phase named by the engine, bytes moving.
    assert.ok(
      progress.some(p => /phase: (?!starting)\S+/.test(p.text) && /[1-9][\d.]* \w*B read, [\d.]+ \w*B stored · [1-9][\d.]* \w*B\/s/.test(p.text)),
      `progress shows the phase, the bytes and the rate: ${JSON.stringify([...new Set(progress.map(p => p.text))])}`,
    );
    backupId = /Backup (backstage-catalog-\d{8}_\d{6})/.exec(text)[1];
    assert.equal(await page.getByRole('button', { name: 'Back up catalog' }).isEnabled(), true);
  });

  await runner.step('the new backup is listed with its size and entity counts', async () => {
    const row = page.getByTestId(`backup-row-${backupId}`);
    await row.waitFor({ timeout: 30_000 });
    const cells = await row.locator('td').allInnerTexts();
    console.log(`# row: ${cells.join(' | ').replace(/\n/g, ' ')}`);
    const counts = await row.getByTestId('entity-counts').innerText();
    const [totalLine, kindsLine] = counts.split('\n');
    const kinds = parseKinds(kindsLine ?? '');
    for (const [kind, n] of Object.entries(COUNTS)) assert.equal(kinds[kind.toLowerCase()], n, `${kind} count in "${counts}"`);
    // The counts were taken in the dump's snapshot: they are what the catalog API serves.
    assert.deepEqual(kinds, catalogCounts);
    const total = Object.values(kinds).reduce((a, b) => a + b, 0);
    assert.equal(totalLine, `${total.toLocaleString('en-US')} entities`);
    assert.match(cells[2], /^[\d.]+ (KiB|MiB|GiB)$/, 'size');
    assert.match(cells[4], /manual/, 'trigger');
    assert.match(cells[5], /never/, 'not verified yet');
    await page.getByTestId('health-banner').getByText(/Backups: (OK|Warning)/).waitFor({ timeout: 30_000 });
    const colour = await statusColour(page, 'health-last-backup');
    assert.ok(isGreen(colour), `a fresh backup is green, not rgb(${colour})`);
  });

  await runner.step('Verify re-reads the backup and marks it verified', async () => {
    const row = page.getByTestId(`backup-row-${backupId}`);
    await row.getByRole('button', { name: 'Verify' }).click();
    const outcome = page.getByTestId(`backup-job-${backupId}`);
    await outcome.getByText(/Verify passed|Verify failed/).waitFor({ timeout: 300_000 });
    assert.match(await outcome.innerText(), /Verify passed in/);
    await page.waitForFunction(
      id => !document.querySelector(`[data-testid="backup-row-${id}"] [data-testid="verified-mark"]`)?.textContent.includes('never'),
      backupId,
      { timeout: 30_000 },
    );
    assert.doesNotMatch(await row.getByTestId('verified-mark').innerText(), /failed/);
    await page.getByTestId('health-last-verify').getByText(/^Passed/).waitFor({ timeout: 30_000 });
  });

  await runner.step('Download hands over the .sql.gz, a complete pg_dump', async () => {
    const row = page.getByTestId(`backup-row-${backupId}`);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      row.getByRole('button', { name: 'Download' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `${backupId}.sql.gz`);
    const file = path.join(workDir, download.suggestedFilename());
    await download.saveAs(file);
    const sql = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
    assert.match(sql, /PostgreSQL database dump complete/);
    assert.match(sql, /final_entities/);
  });

  await runner.step('Run restore drill restores into a scratch database and passes', async () => {
    const row = page.getByTestId(`backup-row-${backupId}`);
    await row.getByRole('button', { name: 'Run restore drill' }).click();
    const outcome = page.getByTestId(`backup-job-${backupId}`);
    await outcome.getByText(/Restore drill (passed|failed)/).waitFor({ timeout: 300_000 });
    assert.match(await outcome.innerText(), /Restore drill passed in/, await outcome.innerText());
    await page.waitForFunction(
      id => !document.querySelector(`[data-testid="backup-row-${id}"] [data-testid="drilled-mark"]`)?.textContent.includes('never'),
      backupId,
      { timeout: 30_000 },
    );
  });

  await runner.step('a screenshot of the page is written', async () => {
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(fs.statSync(SCREENSHOT).size > 10_000);
    console.log(`# ${path.relative(repoRoot, SCREENSHOT)}`);
  });

  await runner.step('Restore, confirmed by typing the name, takes a safety backup and loads the backup', async () => {
    const row = page.getByTestId(`backup-row-${backupId}`);
    await row.getByRole('button', { name: 'Restore', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: 10_000 });
    const text = await dialog.innerText();
    assert.match(text, /safety backup/);
    assert.match(text, /all or nothing/);
    const confirm = dialog.getByRole('button', { name: 'Restore', exact: true });
    assert.equal(await confirm.isDisabled(), true, 'Restore waits for the name');
    await dialog.getByLabel('Backup name to confirm').fill(backupId.slice(0, -1));
    assert.equal(await confirm.isDisabled(), true, 'a wrong name does not unlock Restore');
    await dialog.getByLabel('Backup name to confirm').fill(backupId);
    await confirm.click();
    const outcome = page.getByTestId(`backup-job-${backupId}`);
    await outcome.getByText(/Restore (finished|failed)/).waitFor({ timeout: 300_000 });
    assert.match(await outcome.innerText(), /Restore finished in/, await outcome.innerText());
    // The safety backup of the catalog as it was is listed beside the restored one.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="backup-row-"]').length === 2, null, {
      timeout: 30_000,
    });
    const triggers = await page.locator('[data-testid^="backup-row-"] td:nth-child(5)').allInnerTexts();
    assert.ok(triggers.some(t => /safety/.test(t)), `a safety backup is listed (triggers: ${triggers.join(', ')})`);
    const response = await fetch(`${stack.backendUrl}/api/catalog/entities?fields=kind`, {
      headers: { Authorization: `Bearer ${stack.token}` },
    });
    const restored = (await response.json()).filter(e => e.kind !== 'Location').length;
    assert.equal(restored, Object.values(COUNTS).reduce((a, b) => a + b, 0), 'the catalog serves the restored entities');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  const { failed } = runner.summary();
  if (failed > 0 && page) {
    await page.screenshot({ path: path.join(workDir, 'failure.png'), fullPage: true }).catch(() => undefined);
  }
  if (failed > 0 && stack) {
    keepWorkDir = true;
    console.log(`# logs and a failure screenshot are in ${workDir}`);
  }
  if (browser) await browser.close();
  if (stack) await stack.stop();
  if (!keepWorkDir) fs.rmSync(workDir, { recursive: true, force: true });

  const { passed } = runner.summary();
  console.log(`# ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch(error => {
  console.error(error);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
