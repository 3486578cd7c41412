// The HTML report in headless Chromium: generates reports with the release binary, opens them from
// file:// (nothing is served), and checks what a reader sees: the title and counts, the rule groups,
// the filter box, the SVG charts, keyboard use, and that the page made no network request at all.
// Takes a screenshot of the FGC sample's report to docs/report-html.png.
//
// Run with `bash tests/browser/run.sh` (installs what is missing), or `node html-report.mjs` from
// this folder once `npm ci` has run, /usr/bin/chromium exists and `cargo build --release` is done.
// The last line printed is `N passed, N failed`; the exit code is 1 when a check failed.

import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { check, finish, here, launchChromium, root, runFettle } from './common.mjs';

const screenshot = join(root, 'docs', 'report-html.png');
// The sample the task names, then one with several children so that the filter has rows to hide.
const samples = ['../../samples/fgc/fgc-2024-25.xlsx', '../../samples/disability/disability-2024-25.xlsx'];

/** Runs fettle from this folder (the sample paths are relative to it). */
const runHere = (args) => runFettle(args, { cwd: here });

/** What the report should show, from the JSON report of the same file. */
function expected(sample, tmp) {
  const json = join(tmp, 'r.json');
  runHere(['validate', sample, '--format', 'json', '--output', json]);
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  const children = [...new Set(doc.findings.map((f) => f.child).filter(Boolean))].sort();
  return { summary: doc.summary, findings: doc.findings, codes: Object.keys(doc.summary.by_rule), children };
}

async function checkReport(browser, sample, tmp, takeScreenshot) {
  const name = sample.split('/').pop();
  const html = join(tmp, 'r.html');
  const res = runHere(['validate', sample, '--format', 'html', '--output', html]);
  check(`${name}: fettle exits 1 when there are errors, else 0`, res.status === 0 || res.status === 1);
  const want = expected(sample, tmp);
  const s = want.summary;

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  const problems = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });

  // Title and counts.
  const title = await page.title();
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const counts = `${plural(s.errors, 'error', 'errors')}, ${plural(s.queries, 'query', 'queries')}, ${s.info} info`;
  check(`${name}: title names the file and the counts`, title.includes(name) && title.includes(counts), title);
  check(`${name}: heading shown`, await page.getByRole('heading', { level: 1, name: 'fettle validation report' }).isVisible());
  for (const [sev, n] of [['error', s.errors], ['query', s.queries], ['info', s.info]]) {
    const text = (await page.locator(`#count-${sev} .n`).textContent()) ?? '';
    check(`${name}: ${sev} count shown`, text.trim() === String(n) && (await page.locator(`#count-${sev}`).isVisible()), `${text} != ${n}`);
  }
  const total = await page.locator('#summary-total td.num').textContent();
  check(`${name}: summary total`, total?.trim() === String(want.findings.length), `${total}`);

  // Rule groups.
  const groups = page.locator('#by-rule details.group');
  check(`${name}: a rule group per rule`, (await groups.count()) === want.codes.length, `${await groups.count()} != ${want.codes.length}`);
  for (const code of want.codes) {
    const g = page.locator(`#by-rule details.group[data-code="${code}"]`);
    const rows = await g.locator('tr.finding').count();
    check(`${name}: rule group ${code} has its ${s.by_rule[code]} findings`, rows === s.by_rule[code], `${rows}`);
  }
  check(`${name}: a group per child`, (await page.locator('#by-child details.child').count()) >= want.children.length);

  // Charts.
  const ruleBars = await page.locator('svg#chart-rules rect').count();
  check(`${name}: SVG chart of findings by rule`, ruleBars === want.codes.length, `${ruleBars} bars`);
  const fieldBars = await page.locator('svg#chart-fields rect').count();
  check(`${name}: SVG chart of coverage by field`, fieldBars > 0, `${fieldBars} bars`);
  const box = await page.locator('svg#chart-rules').boundingBox();
  check(`${name}: charts are drawn`, box !== null && box.width > 100 && box.height > 10);

  // Keyboard: the filter is reachable with Tab and a group opens and closes with Enter.
  let reached = false;
  for (let i = 0; i < 40 && !reached; i += 1) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'filter');
  }
  check(`${name}: filter reachable with the keyboard`, reached);
  const first = page.locator('#by-rule details.group').first();
  const wasOpen = await first.evaluate((d) => d.open);
  await first.locator('summary').focus();
  await page.keyboard.press('Enter');
  const nowOpen = await first.evaluate((d) => d.open);
  await page.keyboard.press('Enter');
  check(`${name}: Enter toggles a group`, nowOpen === !wasOpen && (await first.evaluate((d) => d.open)) === wasOpen);

  // The filter: typing a child id hides every finding that does not mention it.
  const filter = page.getByLabel('Filter findings');
  check(`${name}: filter box has a label`, (await filter.count()) === 1);
  // The filter waits for a pause in the typing: `filtered(q)` waits until the page shows the
  // findings for `q` (the status line's data-filter mark).
  const filtered = (q) =>
    page.waitForFunction((w) => document.getElementById('filter-status').getAttribute('data-filter') === w, q.trim().toLowerCase());
  const child = want.children[want.children.length - 1];
  if (child) {
    await filter.fill('');
    await filtered('');
    // The first two keys slowly (each filters the page), the rest as fast as keys come.
    await filter.pressSequentially(child.slice(0, 2), { delay: 400 });
    await filter.pressSequentially(child.slice(2));
    await filtered(child);
    const state = await page.$$eval('tr.finding', (rows) =>
      rows.map((r) => ({ q: r.getAttribute('data-q') || '', hidden: r.hidden, shown: r.offsetParent !== null })),
    );
    const id = child.toLowerCase();
    const wrong = state.filter((r) => r.hidden === r.q.includes(id));
    check(`${name}: typing ${child} hides the other findings`, wrong.length === 0 && state.some((r) => !r.hidden), `${wrong.length} rows wrong`);
    const others = state.filter((r) => !r.q.includes(id));
    check(`${name}: other findings are not visible`, others.every((r) => !r.shown), `${others.filter((r) => r.shown).length} visible`);
    const mine = want.findings.filter((f) => f.child === child).length;
    const shown = await page.locator('#by-rule tr.finding:visible').count();
    check(`${name}: ${child}'s findings are visible`, shown >= mine && mine > 0, `${shown} shown, ${mine} expected`);
    const status = (await page.locator('#filter-status').textContent()) ?? '';
    check(`${name}: the status says how many are shown`, status.includes(`Showing ${shown} of ${want.findings.length}`), status);
  } else {
    check(`${name}: a child to filter by`, false, 'the report has no finding about a child');
  }
  await filter.fill('no-such-text-zzz');
  await filtered('no-such-text-zzz');
  check(`${name}: no match shows a message`, (await page.locator('#no-match').isVisible()) && (await page.locator('tr.finding:visible').count()) === 0);
  await filter.fill('');
  await filtered('');
  const all = await page.locator('#by-rule tr.finding').count();
  const groupsShown = await page.locator('details.group:visible').count();
  check(`${name}: clearing the filter shows every group again`, all === want.findings.length && groupsShown === (await page.locator('details.group').count()));

  if (takeScreenshot) {
    mkdirSync(dirname(screenshot), { recursive: true });
    // The top of the page: title, counts, summary and charts (the whole page would be megabytes).
    const height = Math.min(1800, await page.evaluate(() => document.documentElement.scrollHeight));
    await page.screenshot({ path: screenshot, fullPage: true, clip: { x: 0, y: 0, width: 1280, height } });
    check(`${name}: screenshot written`, existsSync(screenshot), screenshot);
  }

  // No network: every request is the file itself (or a data: URL).
  const remote = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
  check(`${name}: the page was loaded (requests are seen)`, requests.length > 0);
  check(`${name}: no network request`, remote.length === 0, remote.join(', '));
  check(`${name}: no script error, console error or blocked load`, problems.length === 0, problems.join(' | '));
  await context.close();
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'fettle-html-'));
  let browser;
  try {
    browser = await launchChromium();
    for (const [i, sample] of samples.entries()) {
      await checkReport(browser, sample, tmp, i === 0);
    }
  } catch (e) {
    check('the test ran to the end', false, e && e.stack ? e.stack : String(e));
  } finally {
    if (browser) await browser.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  finish();
}

main();
