// fettle in the browser (web/): the page in headless Chromium, served by a tiny static server on
// 127.0.0.1 written here (and by `fettle serve` when the binary has it). Checks, against the
// command line's JSON report of the same files: the shipped samples (CIN XML, FGC and disability
// workbooks, a folder of CSV files, two returns together) detected, validated and shown; findings by
// rule and by child, filters, cells and lines, the rule's text; the downloads (Excel report, marked-up
// workbook, JSON); a large census checked in the worker with progress while the page stays
// responsive; last year's return given in its own area (a generated pair of census years with known
// breaks: the year-on-year findings, both files named, a file of the wrong year or return refused
// with the command line's `--previous` error, nothing changed without one); keyboard use, labels,
// contrast and a small laptop screen; and that no request ever leaves the page's origin. Screenshots
// go to docs/web-*.png.
//
// Run with `bash tests/browser/run.sh` (builds web/ and fettle, installs what is missing), or
// `node web.mjs` from this folder once `npm ci`, `bash web/build.sh` and `cargo build --release`
// have run. The last line printed is `N passed, N failed`; the exit code is 1 when a check failed.

import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inflateRawSync } from 'node:zlib';
import { extname, join, resolve, sep } from 'node:path';
import { check, fettle, finish, launchChromium, root, runFettle } from './common.mjs';

const web = join(root, 'web');
const docs = join(root, 'docs');
const LARGE_CHILDREN = Number(process.env.FETTLE_WEB_LARGE || 40000);


// ---- the command line, for what the page should show ----------------------------------------------


function expected(paths) {
  const doc = JSON.parse(runFettle(['validate', ...paths, '--format', 'json']).stdout);
  const children = new Set(doc.findings.map((f) => f.child || ''));
  return { doc, summary: doc.summary, findings: doc.findings, codes: Object.keys(doc.summary.by_rule), children };
}

/** A finding without the file it came from (the page names files as chosen, the CLI as given). */
function key(f) {
  const loc = f.location ? JSON.stringify({ ...f.location, file: f.location.file ? f.location.file.split('/').pop() : undefined }) : '';
  return `${f.code}|${f.severity}|${f.message}|${f.child || ''}|${f.row ?? ''}|${loc}`;
}

// ---- zip files (xlsx), read just enough to list their entries and read one -------------------------

// The central directory records of a zip: name, method, compressed size and local header offset.
function zipRecords(buf) {
  const records = [];
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i -= 1) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return records;
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < count && p + 46 <= buf.length; n += 1) {
    if (buf.readUInt32LE(p) !== 0x02014b50) break;
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    records.push({
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      method: buf.readUInt16LE(p + 10),
      size: buf.readUInt32LE(p + 20),
      local: buf.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + extra + comment;
  }
  return records;
}

// The names of a zip's entries.
function zipEntries(buf) {
  return zipRecords(buf).map((r) => r.name);
}

// The text of one zip entry (stored or deflated), or null.
function zipEntry(buf, wanted) {
  const r = zipRecords(buf).find((x) => x.name === wanted);
  if (!r) return null;
  const start = r.local + 30 + buf.readUInt16LE(r.local + 26) + buf.readUInt16LE(r.local + 28);
  const data = buf.subarray(start, start + r.size);
  return (r.method === 8 ? inflateRawSync(data) : data).toString('utf8');
}

// ---- a static server for web/ ----------------------------------------------------------------------

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.md': 'text/plain; charset=utf-8',
};

function staticServer(dir) {
  const served = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    served.push(url.pathname);
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = resolve(dir, `.${rel}`);
    if (req.method !== 'GET' || !file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, served, url: `http://127.0.0.1:${server.address().port}/` })));
}

// ---- the page ------------------------------------------------------------------------------------------

/** A browser context that records every request and every script or console error. */
async function openPage(browser, url, viewport = { width: 1366, height: 768 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const requests = [];
  const problems = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.documentElement.dataset.ready, null, { timeout: 60000 });
  const ready = await page.evaluate(() => document.documentElement.dataset.ready);
  const load = await page.evaluate(() => (window.fettle ? window.fettle.load : null));
  return { context, page, requests, problems, ready, load, wallMs: Date.now() - t0 };
}

async function choose(page, input, paths) {
  await page.evaluate(() => {
    document.documentElement.dataset.results = 'none';
  });
  await page.setInputFiles(input, paths);
  await page.waitForFunction(() => !document.getElementById('returns').hidden && !document.getElementById('validate').disabled, null, {
    timeout: 120000,
  });
}

async function clearFiles(page) {
  if (await page.locator('#clear').isVisible()) {
    await page.click('#clear');
    await page.waitForFunction(() => document.getElementById('returns').hidden);
  }
}

async function validate(page) {
  await page.click('#validate');
  await page.waitForFunction(
    () => document.documentElement.dataset.results === 'shown' || !document.getElementById('problem').hidden,
    null,
    { timeout: 300000 },
  );
  const problem = await page.locator('#problem').isVisible();
  return problem ? await page.locator('#problem').textContent() : '';
}

async function shownCounts(page) {
  const n = async (id) => Number(((await page.locator(`#${id} .n`).textContent()) || '').replace(/,/g, ''));
  return { errors: await n('count-error'), queries: await n('count-query'), info: await n('count-info') };
}

async function download(page, buttonSelector, tmp, name) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click(buttonSelector)]);
  const to = join(tmp, name);
  await dl.saveAs(to);
  return { path: to, suggested: dl.suggestedFilename(), url: dl.url(), bytes: readFileSync(to) };
}

/** The sample: chosen, detected, validated; what is shown checked against the command line. */
async function checkSample(page, tmp, { label, input = '#pick-files', paths, cliPaths = paths, ret, year, screenshot }) {
  const want = expected(cliPaths);
  await clearFiles(page);
  await choose(page, input, paths);
  const rows = page.locator('#subs tbody tr');
  const nsubs = await rows.count();
  if (ret) {
    const text = await page.locator('#ret-0 option').first().textContent();
    check(`${label}: return detected (${ret})`, nsubs === 1 && text.includes(`(${ret})`) && text.includes('found'), `${nsubs} rows; ${text}`);
    const y = await page.locator('#year-0 option').first().textContent();
    check(`${label}: year detected (${year})`, y.includes(year), y);
  }
  const problem = await validate(page);
  check(`${label}: validated without a problem`, problem === '', problem);
  if (problem) return want;
  const counts = await shownCounts(page);
  const s = want.summary;
  check(`${label}: counts as the command line's`, counts.errors === s.errors && counts.queries === s.queries && counts.info === s.info,
    `${JSON.stringify(counts)} vs ${s.errors}/${s.queries}/${s.info}`);

  // By rule: a group per rule with its count; every finding's place shown.
  const groups = page.locator('#by-rule details.group');
  check(`${label}: a group per rule`, (await groups.count()) === want.codes.length, `${await groups.count()} != ${want.codes.length}`);
  let wrong = [];
  for (const code of want.codes) {
    const g = page.locator(`#by-rule details.group[data-code="${code}"]`);
    if (!(await g.evaluate((d) => d.open))) await g.locator(':scope > summary').click();
    const n = await g.locator('tr.finding').count();
    if (n !== Math.min(200, s.by_rule[code])) wrong.push(`${code}: ${n} rows, ${s.by_rule[code]} findings`);
  }
  check(`${label}: each rule group lists its findings`, wrong.length === 0, wrong.join('; '));
  // Checks made while reading (JSON `kind` input): said so, and titled as the terminal report titles
  // them (values that do not fit their column's type, by the typed code there; by `kind` and a
  // value's `type` on the page), where their messages differ.
  const terminal = runFettle(['validate', ...cliPaths], { env: { ...process.env, NO_COLOR: '1' } }).stdout;
  const inputCodes = [...new Set(want.findings.filter((f) => f.kind === 'input').map((f) => f.code))];
  wrong = [];
  for (const code of inputCodes) {
    const g = page.locator(`#by-rule details.group[data-code="${code}"]`);
    const about = (await g.locator('.rule').textContent()) || '';
    if (!about.includes('Found while reading the file')) wrong.push(`${code}: ${about.slice(0, 60)}`);
    if (new Set(want.findings.filter((f) => f.code === code).map((f) => f.message)).size < 2) continue;
    const line = terminal.split('\n').find((l) => l.includes(`[${code}] `)) || '';
    const title = (await g.locator(':scope > summary .title').textContent()) || '';
    if (!line.endsWith(`] ${title}`)) wrong.push(`${code}: page "${title}", terminal "${line}"`);
  }
  check(`${label}: checks made while reading are said so and titled as the terminal's`, wrong.length === 0, wrong.join('; '));
  const places = await page.$$eval('#by-rule tr.finding td.loc', (tds) => tds.map((t) => t.textContent));
  const cliPlaces = want.findings.slice(0, 2000).map((f) => f.location).filter(Boolean).map((l) =>
    l.kind === 'cell' ? `${l.sheet}!${l.cell}` : l.kind === 'line' ? `${l.file.split('/').pop()}:${l.line}` : `line ${l.line} ${l.path}`);
  const missingPlaces = cliPlaces.filter((p) => !places.some((q) => q.endsWith(p)));
  check(`${label}: the cell or line of each finding is shown`, cliPlaces.length > 0 && missingPlaces.length === 0, missingPlaces.slice(0, 5).join(', '));

  // The rule's text.
  const ruleCode = want.codes.find((c) => !c.startsWith('input::'));
  if (ruleCode) {
    const g = page.locator(`#by-rule details.group[data-code="${ruleCode}"]`);
    const textBox = g.locator('details.rule-text');
    await textBox.locator(':scope > summary').click();
    const pre = (await textBox.locator('pre').textContent()) || '';
    check(`${label}: rule ${ruleCode} shown as written`, pre.startsWith(`rule ${ruleCode} `) && pre.trim().endsWith('}'), pre.slice(0, 80));
    const dl = (await g.locator('.rule dl').textContent()) || '';
    check(`${label}: rule ${ruleCode}'s message and file shown`, dl.includes('.fettle line'), dl.slice(0, 120));
  }

  // By child.
  await page.click('#tab-child');
  const childGroups = await page.locator('#by-child details.group').count();
  check(`${label}: a group per child`, childGroups === want.children.size, `${childGroups} != ${want.children.size}`);
  await page.click('#tab-rule');

  // Filter by a child: only that child's findings remain.
  const child = [...want.children].filter(Boolean).sort().pop();
  if (child) {
    await page.fill('#filter', child);
    await page.waitForFunction((c) => (document.getElementById('filter-status').textContent || '').includes('Showing') && document.getElementById('filter').value === c, child);
    await page.waitForTimeout(250);
    const mine = want.findings.filter((f) => f.child === child || JSON.stringify(f).includes(child)).length;
    const status = (await page.locator('#filter-status').textContent()) || '';
    const m = status.match(/Showing ([\d,]+) of/);
    const shownN = m ? Number(m[1].replace(/,/g, '')) : -1;
    check(`${label}: filtering by ${child} keeps its findings`, shownN > 0 && shownN <= mine && shownN >= want.findings.filter((f) => f.child === child).length, status);
    await page.fill('#filter', '');
    await page.waitForTimeout(250);
  }
  // Severity filter: without errors, no error is listed.
  if (s.errors > 0) {
    await page.uncheck('#show-error');
    const errRows = await page.locator('tr.sev-row-error').count();
    const status = (await page.locator('#filter-status').textContent()) || '';
    check(`${label}: hiding errors hides them`, errRows === 0 && status.includes(`Showing ${(s.queries + s.info).toLocaleString('en-GB')} of`), status);
    await page.check('#show-error');
  }

  // Downloads: made in the page (blob: URLs), the same findings as the command line.
  const json = await download(page, '#dl-json', tmp, 'r.json');
  const doc = JSON.parse(json.bytes.toString('utf8'));
  const a = doc.findings.map(key).sort();
  const b = want.findings.map(key).sort();
  const diff = a.filter((k, i) => k !== b[i]);
  check(`${label}: JSON download has the command line's findings`, a.length === b.length && diff.length === 0, `${a.length} vs ${b.length}; ${diff.slice(0, 2).join(' / ')}`);
  check(`${label}: downloads are made in the page`, json.url.startsWith('blob:') && json.suggested === 'fettle-report.json', json.url);
  const xlsx = await download(page, '#dl-xlsx', tmp, 'r.xlsx');
  const entries = zipEntries(xlsx.bytes);
  check(`${label}: Excel report is a workbook`, xlsx.bytes.subarray(0, 2).toString() === 'PK' && entries.includes('xl/workbook.xml') && entries.filter((e) => e.startsWith('xl/worksheets/')).length >= 2,
    entries.join(','));
  const annotated = page.locator('#downloads button[id^="dl-annotated-"]');
  if (paths.length === 1 && paths[0].endsWith('.xlsx')) {
    check(`${label}: a marked-up copy is offered`, (await annotated.count()) === 1);
    const copy = await download(page, '#downloads button[id^="dl-annotated-"]', tmp, 'marked.xlsx');
    const e = zipEntries(copy.bytes);
    // Excel finds notes by the content type of their part, whatever the part is called.
    const types = zipEntry(copy.bytes, '[Content_Types].xml') || '';
    const notes = [...types.matchAll(/PartName="\/([^"]+)"\s+ContentType="application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.comments\+xml"/g)].map((m) => m[1]);
    check(`${label}: the marked-up copy is a workbook with notes`, notes.length > 0 && notes.every((n) => e.includes(n)), `${notes.join(',')} in ${e.join(',')}`);
    // The copy has the same values: fettle finds the same things in it.
    const again = JSON.parse(runFettle(['validate', copy.path, '--format', 'json']).stdout);
    check(`${label}: the marked-up copy validates as the original`, again.summary.errors === s.errors && again.summary.queries === s.queries,
      `${again.summary.errors}/${again.summary.queries} vs ${s.errors}/${s.queries}`);
  } else if (paths.length === 1) {
    check(`${label}: no marked-up copy for a non-workbook`, (await annotated.count()) === 0);
  }
  if (screenshot) await screenshot();
  return want;
}

/** Chooses last year's files (the second drop area) and waits for them to be read. */
async function choosePrevious(page, paths) {
  await page.evaluate(() => {
    document.documentElement.dataset.results = 'none';
  });
  await page.setInputFiles('#pick-prev-files', paths);
  await page.waitForFunction((n) => !document.getElementById('prev-found').hidden &&
    document.querySelectorAll('#prev-subs tbody tr').length === n && !document.getElementById('pick-prev-files').disabled, paths.length, { timeout: 120000 });
}

async function clearPrevious(page) {
  if (await page.locator('#clear-prev').isVisible()) {
    await page.click('#clear-prev');
    await page.waitForFunction(() => document.getElementById('prev-found').hidden && document.getElementById('prev-list-wrap').hidden &&
      !document.getElementById('pick-prev-files').disabled);
  }
}

/** `fettle validate` in `cwd` as JSON (exit 0 or 1). */
function cliJson(args, cwd) {
  return JSON.parse(runFettle(['validate', '--format', 'json', ...args], { cwd }).stdout);
}

/** Last year's return, given in its own area: a generated pair of census years with known breaks is
 * checked as `fettle validate THIS --previous LAST` checks it; a file of the wrong year or return is
 * refused with the command line's message; without one, this year's is checked alone. */
async function checkPrevious(page, tmp) {
  const dir = join(tmp, 'pair');
  mkdirSync(dir, { recursive: true });
  const due = runFettle(['generate', 'cin', '--size', '300', '--seed', '5', '--previous', 'last.xml', '--out', 'this.xml', '--breaks', '14'], { cwd: dir })
    .stdout.trim().split('\n').filter(Boolean).map((l) => l.trim()).sort();
  const [thisXml, lastXml] = [join(dir, 'this.xml'), join(dir, 'last.xml')];
  const want = cliJson(['this.xml', '--previous', 'last.xml'], dir);
  const human = runFettle(['validate', 'this.xml', '--previous', 'last.xml'], { cwd: dir }).stdout;

  await clearFiles(page);
  await clearPrevious(page);
  await choose(page, '#pick-files', [thisXml]);
  await choosePrevious(page, [lastXml]);
  const prevRow = (await page.locator('#prev-subs tbody tr').first().textContent()) || '';
  check('last year: its return and year are found', prevRow.includes('last.xml') && prevRow.includes('(cin)') && prevRow.includes('2023-24'), prevRow);
  const problem = await validate(page);
  check('last year: validated without a problem', problem === '', problem);
  if (problem) return;
  const counts = await shownCounts(page);
  check('last year: counts as `fettle validate --previous`', counts.errors === want.summary.errors && counts.queries === want.summary.queries && counts.info === want.summary.info,
    `${JSON.stringify(counts)} vs ${JSON.stringify(want.summary)}`);
  // Every break made is found, and nothing else (the generator lists the findings due).
  const found = (await page.$$eval('#by-child details.group', (gs) => gs.flatMap((g) => {
    const child = g.dataset.child;
    return [...new Set([...g.querySelectorAll('summary .title')].map((t) => t.textContent))].flatMap((t) =>
      t.replace(/^.*?rules? /, '').split(', ').map((code) => `${code} ${child}`.trim()));
  }))).sort();
  const pageCodes = (await page.$$eval('#by-rule details.group', (gs) => gs.map((g) => `${g.dataset.code}:${g.querySelectorAll('tr.finding').length}`))).sort();
  const wantCodes = Object.entries(want.summary.by_rule).map(([c, n]) => `${c}:${n}`).sort();
  check('last year: every year-on-year rule broken is listed with its findings', pageCodes.join() === wantCodes.join() && due.every((d) => wantCodes.some((c) => c.startsWith(`${d.split(' ')[0]}:`))),
    `${pageCodes.join()} vs ${wantCodes.join()}; due ${due.join(', ')}`);
  const dueSet = [...new Set(due)].sort();
  check('last year: each child with a break has a group with its rule', dueSet.every((d) => found.includes(d)), `${dueSet.filter((d) => !found.includes(d)).join(', ')} missing from ${found.join(', ')}`);
  // Which file was used, in the command line's words.
  const used = ((await page.locator('#previous-used').textContent()) || '').trim();
  const cliUsed = human.split('\n').find((l) => l.includes('checked against last year')) || '(none)';
  check('last year: the page names the file it was checked against', used === cliUsed.trim(), `${used} vs ${cliUsed}`);
  // Both places: a finding on last year's row names last year's file; one on this year's row names
  // last year's related row and its file.
  const places = await page.$$eval('#by-rule tr.finding td.loc', (tds) => tds.map((t) => t.textContent));
  const others = await page.$$eval('#by-rule tr.finding td.vals', (tds) => tds.map((t) => t.textContent).join('\n'));
  const loc = (l) => (l.kind === 'cell' ? `${l.sheet}!${l.cell}` : l.kind === 'line' ? `${l.file}:${l.line}` : `line ${l.line} ${l.path}`);
  const lastRows = want.findings.filter((f) => f.location_file);
  const wantPlaces = lastRows.map((f) => `${f.in_this_return === false ? 'not in this return; ' : ''}last year at ${loc(f.location)} in \`last.xml\``);
  check('last year: findings on last year\'s rows say so and name its file', lastRows.length >= 3 && wantPlaces.every((p) => places.includes(p)),
    wantPlaces.filter((p) => !places.includes(p)).slice(0, 3).join(' | '));
  const relatedLast = want.findings.flatMap((f) => f.related.filter((r) => r.file)).map((r) => `at ${loc(r.location)} in \`last.xml\``);
  check('last year: findings on this year\'s rows name last year\'s row and file', relatedLast.length >= 3 && relatedLast.every((r) => others.includes(r)),
    relatedLast.filter((r) => !others.includes(r)).slice(0, 3).join(' | '));
  // The reports made in the page say it as the command line's do.
  const json = JSON.parse((await download(page, '#dl-json', tmp, 'pair.json')).bytes.toString('utf8'));
  check('last year: JSON download as `fettle validate --previous`', JSON.stringify(json.findings) === JSON.stringify(want.findings) &&
    JSON.stringify(json.previous) === JSON.stringify(want.previous) && !json.notes, JSON.stringify(json.previous));
  const html = (await download(page, '#dl-html', tmp, 'pair.html')).bytes.toString('utf8');
  check('last year: the web page report names last year\'s file', html.includes("Checked against last year's") && html.includes('this.xml against last.xml (2023-24)'));
  // Screenshots: the two drop areas and what was found in each; the findings naming both files.
  await page.mouse.move(0, 0);
  const at = (id, edge = 'top') => page.evaluate(([i, e]) => document.getElementById(i).getBoundingClientRect()[e] + window.scrollY, [id, edge]);
  const areas = await at('choose');
  await page.screenshot({ path: join(docs, 'web-previous.png'), fullPage: true, clip: { x: 0, y: areas - 8, width: 1366, height: (await at('returns', 'bottom')) - areas + 16 } });
  await page.screenshot({ path: join(docs, 'web-previous-findings.png'), fullPage: true, clip: { x: 0, y: (await at('results')) - 8, width: 1366, height: 1300 } });

  // The wrong year or return: refused with `--previous`'s message, and nothing shown as checked.
  const cliError = (args) => {
    const r = spawnSync(fettle, ['validate', ...args], { cwd: dir, encoding: 'utf8' });
    return { status: r.status, text: r.stderr.trim().replace(/^error: --previous /, "Last year's ") };
  };
  const fgc = join(dir, 'fgc-2024-25.xlsx');
  copyFileSync(join(root, 'samples/fgc/fgc-2024-25.xlsx'), fgc);
  for (const [label, prev, args] of [
    ['the same year', thisXml, ['this.xml', '--previous', 'this.xml']],
    ['another return', fgc, ['this.xml', '--previous', 'fgc-2024-25.xlsx']],
  ]) {
    await clearPrevious(page);
    await choosePrevious(page, [prev]);
    const said = await validate(page);
    const cli = cliError(args);
    const results = await page.evaluate(() => document.documentElement.dataset.results);
    check(`last year: ${label} is refused with the command line's message`, cli.status === 2 && said === cli.text && results !== 'shown', `page: ${said}; cli (${cli.status}): ${cli.text}`);
  }

  // None given: this year's checked alone, as before, saying that the year-on-year rules did not run.
  await clearPrevious(page);
  const alone = cliJson(['this.xml'], dir);
  const problemAlone = await validate(page);
  const countsAlone = await shownCounts(page);
  const usedAlone = await page.locator('#previous-used').isVisible();
  const notes = (await page.locator('#notes').textContent()) || '';
  check('no last year\'s file: counts as `fettle validate` alone, no file named', problemAlone === '' && !usedAlone && countsAlone.errors === alone.summary.errors &&
    countsAlone.queries === alone.summary.queries && countsAlone.info === alone.summary.info, `${problemAlone} ${JSON.stringify(countsAlone)} vs ${JSON.stringify(alone.summary)}`);
  check('no last year\'s file: the page says the year-on-year rules did not run', /\d+ year-on-year rules did not run: give last year's cin return under "Last year's return"/.test(notes), notes);
  const jsonAlone = JSON.parse((await download(page, '#dl-json', tmp, 'alone.json')).bytes.toString('utf8'));
  check('no last year\'s file: JSON download as `fettle validate` alone', JSON.stringify(jsonAlone.findings) === JSON.stringify(alone.findings) && !jsonAlone.previous);
}

/** Colour contrast of every visible text against its background (WCAG 2: 4.5, or 3 for large text). */
async function contrastProblems(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bgOf = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const bad = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent.trim()) continue;
      seen.add(el);
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || el.closest('[hidden], .visually-hidden, option')) continue;
      const st = getComputedStyle(el);
      const fg = parse(st.color);
      const bg = bgOf(el);
      if (!fg) continue;
      const [l1, l2] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(st.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName.toLowerCase()}.${el.className} "${n.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return bad;
  });
}

/** Form controls without an accessible name. */
async function unlabelled(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('input, select, button, [role=tab]')]
      .filter((e) => {
        if (e.closest('[hidden]')) return false;
        if (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')) return false;
        if (e.id && document.querySelector(`label[for="${e.id}"]`)) return false;
        if (e.closest('label')) return false;
        if ((e.tagName === 'BUTTON' || e.getAttribute('role') === 'tab') && e.textContent.trim()) return false;
        return true;
      })
      .map((e) => e.id || e.outerHTML.slice(0, 60)),
  );
}

async function tabTo(page, test, max = 60) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(test)) return true;
  }
  return false;
}

// ---- the run -------------------------------------------------------------------------------------------

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'fettle-web-'));
  let browser;
  let srv;
  try {
    check('web/pkg/fettle.wasm is built', existsSync(join(web, 'pkg', 'fettle.wasm')), 'run bash web/build.sh');
    srv = await staticServer(web);
    const origin = srv.url.replace(/\/$/, '');
    browser = await launchChromium();
    mkdirSync(docs, { recursive: true });

    // The page loads and the engine starts.
    const { context, page, requests, problems, ready, load, wallMs } = await openPage(browser, srv.url);
    check('the engine starts', ready === 'true', await page.locator('#engine').textContent());
    if (load) {
      console.log(`# fettle.wasm: ${(load.size / 1048576).toFixed(2)} MB; fetched and compiled in ${load.compileMs.toFixed(0)} ms, instantiated in ${load.instantiateMs.toFixed(0)} ms; ready ${load.ms.toFixed(0)} ms after the script ran (${wallMs} ms from navigation)`);
    }
    check('heading and privacy note shown', (await page.getByRole('heading', { level: 1 }).textContent()).includes('fettle') &&
      (await page.locator('.privacy').textContent()).includes('nothing is uploaded'));
    const loadRequests = requests.length;
    await page.screenshot({ path: join(docs, 'web-start.png') });

    // Keyboard: the file picker is reached with Tab from the top of the page.
    await page.focus('body');
    check('keyboard reaches "Choose files"', await tabTo(page, () => document.activeElement && document.activeElement.id === 'pick-files'));

    const samples = [
      { label: 'FGC workbook', paths: [join(root, 'samples/fgc/fgc-2024-25.xlsx')], ret: 'fgc', year: '2024-25',
        screenshot: async () => {
          await page.mouse.move(0, 0);
          // The results: counts, downloads, filters and the first rule groups.
          const top = await page.evaluate(() => document.getElementById('results').getBoundingClientRect().top + window.scrollY);
          await page.screenshot({ path: join(docs, 'web-findings.png'), fullPage: true, clip: { x: 0, y: top, width: 1366, height: 1150 } });
          await page.click('#tab-child');
          await page.locator('#by-child details.group').first().locator(':scope > summary').click();
          const tabs = await page.evaluate(() => document.getElementById('findings-h').getBoundingClientRect().top + window.scrollY);
          await page.screenshot({ path: join(docs, 'web-by-child.png'), fullPage: true, clip: { x: 0, y: tabs - 8, width: 1366, height: 768 } });
          await page.click('#tab-rule');
        } },
      { label: 'CIN census XML', paths: [join(root, 'samples/cin/census-2024-25.xml')], ret: 'cin', year: '2024-25' },
      { label: 'disability workbook', paths: [join(root, 'samples/disability/disability-2024-25.xlsx')], ret: 'disability', year: '2024-25' },
    ];
    for (const s of samples) await checkSample(page, tmp, s);

    // Two returns together: the disability return is checked against the census.
    const both = [join(root, 'samples/disability/disability-2024-25.xlsx'), join(root, 'samples/cin/census-2024-25.xml')];
    await checkSample(page, tmp, { label: 'disability with the census', paths: both,
      screenshot: async () => {
        await page.evaluate(() => window.scrollTo(0, 0));
      } });
    check('two returns found', (await page.locator('#subs tbody tr').count()) === 2);
    await page.evaluate(() => document.getElementById('returns').scrollIntoView());
    await page.screenshot({ path: join(docs, 'web-returns.png') });

    // A folder of CSV files.
    await checkSample(page, tmp, { label: 'FGC CSV folder', input: '#pick-folder', paths: [join(root, 'samples/fgc/csv')], cliPaths: [join(root, 'samples/fgc/csv')], ret: 'fgc', year: '2024-25' });

    // Dates that do not fit their columns, two of them on their own (a group of values that do not fit).
    const dates = join(root, 'tests/fixtures/bad-input/csv/impossible-dates');
    await checkSample(page, tmp, { label: 'impossible dates', input: '#pick-folder', paths: [dates], cliPaths: [dates], ret: 'fgc', year: '2024-25' });

    // Last year's return, in its own area.
    await checkPrevious(page, tmp);

    // Choosing the return by hand: the FGC workbook read as a disability return cannot be.
    await clearFiles(page);
    await choose(page, '#pick-files', [join(root, 'samples/fgc/fgc-2024-25.xlsx')]);
    await page.selectOption('#ret-0', 'disability');
    const years = await page.locator('#year-0 option').allTextContents();
    check('choosing a return lists its years', years.includes('2024-25'), years.join(','));
    const problem = await validate(page);
    const errorsShown = (await page.locator('#notes li.err').count()) > 0 || problem !== '';
    check('a file read as the wrong return says why', errorsShown, problem);
    await page.selectOption('#ret-0', '');
    check('back to the return found', (await validate(page)) === '' && (await shownCounts(page)).errors === expected([join(root, 'samples/fgc/fgc-2024-25.xlsx')]).summary.errors);

    // Keyboard: filter, tabs and groups.
    await page.focus('#results-h');
    check('keyboard reaches the filter', await tabTo(page, () => document.activeElement && document.activeElement.id === 'filter'));
    await page.focus('#tab-rule');
    await page.keyboard.press('ArrowRight');
    const onChild = await page.evaluate(() => document.activeElement.id === 'tab-child' && !document.getElementById('by-child').hidden);
    await page.keyboard.press('ArrowLeft');
    check('arrow keys move between the tabs', onChild && (await page.evaluate(() => document.activeElement.id === 'tab-rule')));
    const first = page.locator('#by-rule details.group').first();
    const wasOpen = await first.evaluate((d) => d.open);
    await first.locator(':scope > summary').focus();
    await page.keyboard.press('Enter');
    const nowOpen = await first.evaluate((d) => d.open);
    await page.keyboard.press('Enter');
    check('Enter opens and closes a group', nowOpen === !wasOpen && (await first.evaluate((d) => d.open)) === wasOpen);

    // Labels, contrast, and a small laptop screen (1366 x 768; also 1280 x 720).
    const noName = await unlabelled(page);
    check('every control has a label', noName.length === 0, noName.join(', '));
    const low = await contrastProblems(page);
    check('text contrast at least 4.5:1 (3:1 large)', low.length === 0, low.slice(0, 5).join(' | '));
    for (const w of [1366, 1280]) {
      await page.setViewportSize({ width: w, height: w === 1366 ? 768 : 720 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(`no sideways scrolling at ${w} px`, overflow <= 0, `${overflow} px too wide`);
    }
    await page.setViewportSize({ width: 1366, height: 768 });

    // A large census: checked in the worker, progress shown, the page responsive meanwhile.
    const big = join(tmp, 'large-census.xml');
    runFettle(['generate', 'cin', '--size', String(LARGE_CHILDREN), '--out', big]);
    const bigMB = statSync(big).size / 1e6;
    await clearFiles(page);
    await page.evaluate(() => {
      // Longest gap between timer ticks: how long the page could not respond.
      window.__gaps = { max: 0, last: performance.now(), ticks: 0 };
      window.__tick = setInterval(() => {
        const now = performance.now();
        window.__gaps.max = Math.max(window.__gaps.max, now - window.__gaps.last);
        window.__gaps.last = now;
        window.__gaps.ticks += 1;
      }, 20);
    });
    const tBig = Date.now();
    await choose(page, '#pick-files', [big]);
    const pBefore = Number(await page.evaluate(() => document.documentElement.dataset.progress || 0));
    await page.click('#validate');
    await page.waitForFunction(() => !document.getElementById('working').hidden || document.documentElement.dataset.results === 'shown');
    // While it runs, the page answers and the progress bar moves.
    const answers = [];
    const bars = new Set();
    while ((await page.evaluate(() => document.documentElement.dataset.results)) !== 'shown' && !(await page.locator('#problem').isVisible())) {
      const t = Date.now();
      const v = await page.evaluate(() => document.getElementById('progress').value);
      answers.push(Date.now() - t);
      bars.add(v);
      await page.waitForTimeout(30);
      if (bars.size === 3) await page.screenshot({ path: join(docs, 'web-progress.png') });
    }
    const bigMs = Date.now() - tBig;
    const gaps = await page.evaluate(() => {
      clearInterval(window.__tick);
      return window.__gaps;
    });
    const pAfter = Number(await page.evaluate(() => document.documentElement.dataset.progress || 0));
    console.log(`# large census: ${LARGE_CHILDREN} children, ${bigMB.toFixed(0)} MB, read and checked in ${(bigMs / 1000).toFixed(1)} s; longest main-thread gap ${gaps.max.toFixed(0)} ms; ${pAfter - pBefore} progress reports`);
    check('large census: progress reported while checking', pAfter - pBefore >= 5 && bars.size >= 3, `${pAfter - pBefore} reports, ${bars.size} bar values`);
    check('large census: the page stays responsive', gaps.max < 250 && Math.max(...answers, 0) < 250, `longest gap ${gaps.max.toFixed(0)} ms, slowest answer ${Math.max(...answers, 0)} ms`);
    const wantBig = expected([big]).summary;
    const gotBig = await shownCounts(page);
    check('large census: counts as the command line\'s', gotBig.errors === wantBig.errors && gotBig.queries === wantBig.queries, `${JSON.stringify(gotBig)} vs ${wantBig.errors}/${wantBig.queries}`);

    // No request ever left the origin; after loading, none but the downloads' blob: URLs.
    const outside = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    check('no request leaves the page\'s origin', outside.length === 0, outside.join(', '));
    const later = requests.slice(loadRequests).filter((u) => !u.startsWith('blob:'));
    check('no network request after the page has loaded', later.length === 0, later.join(', '));
    check('the page loaded only its own files', srv.served.every((p) => ['/', '/index.html', '/app.js', '/worker.js', '/style.css', '/pkg/fettle.wasm'].includes(p)), srv.served.join(', '));
    check('no script error, console error or blocked load', problems.length === 0, problems.join(' | '));
    await context.close();

    // Opened as a file (no server): the page says how to open it.
    {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(`file://${join(web, 'index.html')}`);
      await p.waitForFunction(() => document.documentElement.dataset.ready);
      const said = (await p.locator('#engine').textContent()) || '';
      check('opened as a file, the page says to use a web server', said.includes('fettle serve'), said);
      await ctx.close();
    }

    // `fettle serve`, when this fettle has it: the same page, embedded in the binary.
    await checkServe(browser, tmp);
  } catch (e) {
    check('the test ran to the end', false, e && e.stack ? e.stack : String(e));
  } finally {
    if (browser) await browser.close();
    if (srv) srv.server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  finish();
}

async function checkServe(browser, tmp) {
  const help = spawnSync(fettle, ['serve', '--help'], { encoding: 'utf8' });
  if (help.status !== 0) {
    console.log('# skip: this fettle has no `serve` command yet (see docs/browser.md)');
    return;
  }
  const child = spawn(fettle, ['serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`fettle serve printed no address: ${out}`)), 10000);
      const seen = (d) => {
        out += d;
        const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
        if (m) {
          clearTimeout(timer);
          ok(m[0]);
        }
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.on('exit', (c) => fail(new Error(`fettle serve exited ${c}: ${out}`)));
    });
    const origin = url.replace(/\/$/, '');
    const { context, page, requests, problems, ready } = await openPage(browser, url);
    check('fettle serve: the engine starts', ready === 'true', await page.locator('#engine').textContent());
    if (ready === 'true') {
      const sample = join(root, 'samples/fgc/fgc-2024-25.xlsx');
      await choose(page, '#pick-files', [sample]);
      check('fettle serve: validates the FGC sample', (await validate(page)) === '' && (await shownCounts(page)).errors === expected([sample]).summary.errors);
    }
    const outside = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    check('fettle serve: no request leaves the origin', outside.length === 0, outside.join(', '));
    check('fettle serve: no script error or blocked load', problems.length === 0, problems.join(' | '));
    await context.close();
    const res = await fetch(`${origin}/../Cargo.toml`).catch(() => null);
    check('fettle serve: no file outside the page', !res || res.status === 404 || res.status === 400, res ? String(res.status) : '');
  } finally {
    child.kill();
  }
}

main();
