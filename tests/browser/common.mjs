// What the browser tests share: the fettle binary, Chromium, and counting checks.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..');
/** The fettle binary (`FETTLE_BIN`, else the release build). */
export const fettle = resolve(here, process.env.FETTLE_BIN || '../../target/release/fettle');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const counts = { passed: 0, failed: 0 };

/** Records one check, printing `ok - name` or `not ok - name: detail`. */
export function check(name, ok, detail = '') {
  if (ok) {
    counts.passed += 1;
    console.log(`ok - ${name}`);
  } else {
    counts.failed += 1;
    console.log(`not ok - ${name}${detail ? `: ${detail}` : ''}`);
  }
}

/** Prints `N passed, N failed` and exits, 1 when a check failed. */
export function finish() {
  console.log(`${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed === 0 ? 0 : 1);
}

/** Runs fettle (from the repository root unless `opts.cwd` says otherwise); exit 0 or 1 are both
 * fine (1 means findings). */
export function runFettle(args, opts = {}) {
  const r = spawnSync(fettle, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error) throw new Error(`cannot run ${fettle}: ${r.error.message}`);
  if (r.status !== 0 && r.status !== 1) throw new Error(`fettle ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

/** Headless Debian Chromium with nothing running in the background (this machine's network is
 * closed, and the tests assert that no request leaves the page's origin). */
export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
