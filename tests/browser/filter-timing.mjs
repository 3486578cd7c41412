// Measures the HTML report's filter on a large report, for BENCHMARKS.md (not a test: it prints
// numbers and checks nothing). Usage, from this folder once `npm ci` has run:
//   node filter-timing.mjs REPORT.html [WORD]
// Opens the report from file:// in headless Chromium, types WORD (six characters, default
// `c00001`) into the filter one key at a time, as fast as Playwright types, and prints the time from
// the first key to the filtered page drawn (the status line saying how many are shown, then the
// next animation frame), five times, clearing the filter in between.
import { pathToFileURL } from 'node:url';
import { launchChromium } from './common.mjs';

const [report, word = 'c00001'] = process.argv.slice(2);
if (!report) {
  console.error('usage: node filter-timing.mjs REPORT.html [WORD]');
  process.exit(2);
}
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const loadStart = Date.now();
await page.goto(pathToFileURL(report).href, { waitUntil: 'load', timeout: 300_000 });
console.log(`load: ${Date.now() - loadStart} ms`);
const filter = page.getByLabel('Filter findings');
const frame = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
const times = [];
for (let i = 0; i < 5; i += 1) {
  await filter.fill('');
  await page.waitForFunction(() => document.getElementById('filter-status').textContent.startsWith('Showing all'), null, { timeout: 300_000 });
  await frame();
  const t0 = Date.now();
  await filter.pressSequentially(word);
  // The filtered result: the status counts for the whole word (a report without the data-filter
  // mark applies every key as it is typed, so its status is already final here).
  await page.waitForFunction(
    (w) => {
      const s = document.getElementById('filter-status');
      const mark = s.getAttribute('data-filter');
      return /^Showing \d+ of/.test(s.textContent) && (mark === null || mark === w);
    },
    word.toLowerCase(),
    { timeout: 300_000 },
  );
  await frame();
  times.push(Date.now() - t0);
}
const status = await page.locator('#filter-status').textContent();
console.log(`typing "${word}" to the filtered page: ${times.join(', ')} ms (${status})`);
await browser.close();
