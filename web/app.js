// fettle in the browser: the page. The engine runs in worker.js (WebAssembly in a Web Worker); this
// file only shows files, choices, progress and findings, and turns reports into downloads (Blob
// URLs). Text from files and rules is only ever set as text (never as HTML). No framework, no
// network request after the page has loaded.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const RETURN_NAMES = { cin: 'CIN census', fgc: 'Family group conference', disability: 'Disability' };
  const SEVERITIES = ['error', 'query', 'info'];
  const GROUPS_AT_ONCE = 300; // groups drawn before a "show more" button
  const ROWS_AT_ONCE = 200; // findings drawn per group before a "show more" button
  const OPEN_UP_TO = 100; // rule groups start open when a run has at most this many findings

  // ---- the worker ------------------------------------------------------------------------------

  let worker = null;
  let nextId = 1;
  const pending = new Map();
  let onProgress = () => {};

  function call(op, data = {}) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, ...data });
    });
  }

  function startWorker() {
    worker = new Worker('worker.js');
    worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.type === 'progress') {
        onProgress(m.step);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      showProblem(`fettle stopped: ${e.message || 'the worker failed'}`);
      for (const p of pending.values()) p.reject(new Error('the worker stopped'));
      pending.clear();
    };
  }

  // ---- small helpers ---------------------------------------------------------------------------

  /** An element with attributes (`text` sets its text) and children. */
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v === true) e.setAttribute(k, '');
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const plural = (n, one, many) => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
  const bytesText = (n) =>
    n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1048576).toFixed(1)} MB`;
  const returnName = (r) => (RETURN_NAMES[r] ? `${RETURN_NAMES[r]} (${r})` : r);

  function locText(l) {
    if (!l) return '';
    if (l.kind === 'cell') return `${l.sheet}!${l.cell}`;
    if (l.kind === 'line') return `${l.file}:${l.line}`;
    if (l.kind === 'xml') return `line ${l.line} ${l.path}`;
    return '';
  }
  /** Where a finding is: its location; for a row of last year's return, `last year at ... in \`file\``
   * (as the command line's reports say it), after `not in this return; ` when its child is not here. */
  function placeText(f) {
    const loc = locText(f.location);
    if (!loc || !f.location_file) return loc;
    return `${f.in_this_return === false ? 'not in this return; ' : ''}last year at ${loc} in \`${f.location_file}\``;
  }
  /** A value as the reports for people show it: `(missing)` when there is none (`type` says so; an
   * empty text is not missing). */
  const shown = (v) => (v.type === 'missing' ? '(missing)' : v.value);
  const valuesText = (f) => f.values.map((v) => `${v.field} = ${shown(v)}`).join('; ');
  function relatedText(f) {
    return f.related
      .map((r) => {
        const place = `${r.location ? ` at ${locText(r.location)}` : ''}${r.file ? ` in \`${r.file}\`` : ''}`;
        const vals = r.values.map((v) => `${v.field} = ${shown(v)}`);
        return `${r.table} row ${r.row + 1}${place}${vals.length ? `: ${vals.join(', ')}` : ''}`;
      })
      .join(' | ');
  }

  function showProblem(text) {
    const p = $('problem');
    p.textContent = text;
    p.hidden = !text;
  }

  // ---- state -----------------------------------------------------------------------------------

  let info = null; // {version, returns: [{name, years, latest}]}
  const chosen = new Map(); // name (relative path) -> File, this year's
  const chosenPrev = new Map(); // the same, last year's return (optional)
  let detected = []; // [{display, format, files, return, year, notes, error}]
  let detectedPrev = []; // the same, for last year's files
  let outcome = null; // the last validation
  let model = null; // findings prepared for filtering
  const openGroups = new Set();
  let activeTab = 'rule';
  let busy = false;

  function setBusy(b) {
    busy = b;
    $('validate').disabled = b || detected.every((d) => d.error && !d.return);
    for (const id of ['pick-files', 'pick-folder', 'clear', 'pick-prev-files', 'pick-prev-folder', 'clear-prev']) $(id).disabled = b;
    $('drop').setAttribute('aria-busy', b ? 'true' : 'false');
    $('drop-prev').setAttribute('aria-busy', b ? 'true' : 'false');
  }

  // ---- start -----------------------------------------------------------------------------------

  function engineFailed(why) {
    $('engine').textContent = `fettle cannot run here: ${why}`;
    $('engine').classList.add('failed');
    document.documentElement.dataset.ready = 'failed';
    for (const id of ['pick-files', 'pick-folder', 'pick-prev-files', 'pick-prev-folder']) $(id).disabled = true;
  }

  async function init() {
    if (location.protocol === 'file:' || typeof WebAssembly !== 'object' || typeof Worker !== 'function') {
      engineFailed(
        location.protocol === 'file:'
          ? 'this page was opened as a file. Open it from a web server instead: `fettle serve`, or any static server over the folder web/.'
          : 'this browser has no WebAssembly or Web Workers.',
      );
      return;
    }
    try {
      startWorker();
    } catch (e) {
      engineFailed(e.message);
      return;
    }
    const t0 = performance.now();
    try {
      const r = await call('init');
      info = r.info;
      const total = performance.now() - t0;
      window.fettle = { load: { ms: total, compileMs: r.compileMs, instantiateMs: r.instantiateMs, size: r.size } };
      const sets = info.returns.map((x) => `${RETURN_NAMES[x.name] || x.name} (${x.years.join(', ')})`).join('; ');
      $('engine').textContent = `fettle is ready (${bytesText(r.size)}, loaded in ${(total / 1000).toFixed(1)} s). Rules: ${sets}.`;
      $('version').textContent = info.version;
      document.documentElement.dataset.ready = 'true';
    } catch (e) {
      engineFailed(e.message);
    }
  }

  // ---- choosing files --------------------------------------------------------------------------

  const READABLE = /\.(xml|xlsx|xlsm|csv)$/i;

  /** This year's files, or last year's (`previous`). */
  const filesOf = (previous) => (previous ? chosenPrev : chosen);

  async function addFiles(items, previous = false) {
    const list = items.filter(({ name }) => {
      const base = name.split('/').pop();
      return !base.startsWith('.') && !base.startsWith('~$');
    });
    if (!list.length) return;
    showProblem('');
    for (const { name, file } of list) filesOf(previous).set(name, file);
    renderFiles();
    setBusy(true);
    try {
      await call('add', { items: list, previous });
      await detect();
    } catch (e) {
      showProblem(e.message);
    } finally {
      setBusy(false);
    }
  }

  async function removeFile(name, previous = false) {
    filesOf(previous).delete(name);
    renderFiles();
    setBusy(true);
    try {
      await call('remove', { name, previous });
      await detect();
    } catch (e) {
      showProblem(e.message);
    } finally {
      setBusy(false);
    }
  }

  async function clearFiles(previous = false) {
    filesOf(previous).clear();
    renderFiles();
    showProblem('');
    setBusy(true);
    try {
      await call('clear', { previous });
      await detect();
    } catch (e) {
      showProblem(e.message);
    } finally {
      setBusy(false);
    }
    $(previous ? 'pick-prev-files' : 'pick-files').focus();
  }

  function renderFileList(previous) {
    const files = filesOf(previous);
    const ul = $(previous ? 'prev-list' : 'file-list');
    ul.replaceChildren();
    const names = [...files.keys()].sort();
    const whose = previous ? "last year's " : '';
    for (const name of names) {
      const f = files.get(name);
      ul.append(
        el(
          'li',
          {},
          el('span', { class: 'name', text: name }),
          el('span', { class: 'size', text: bytesText(f.size) }),
          el('button', { type: 'button', 'aria-label': `Remove ${whose}${name}`, title: `Remove ${whose}${name}`, text: '\u00d7', onclick: () => removeFile(name, previous) }),
        ),
      );
    }
    $(previous ? 'prev-list-wrap' : 'file-list-wrap').hidden = names.length === 0;
  }

  function renderFiles() {
    renderFileList(false);
    renderFileList(true);
  }

  /** Files of a dropped folder, with their paths relative to it. */
  async function entryFiles(entry, out) {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ name: entry.fullPath.replace(/^\//, ''), file });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await entryFiles(e, out);
      }
    }
  }

  /** A drop area and its two pickers: this year's files, or last year's (`previous`). */
  function wireArea({ drop, files, folder, clear, previous }) {
    $(files).addEventListener('change', (e) => {
      const items = [...e.target.files].map((file) => ({ name: file.name, file }));
      e.target.value = '';
      addFiles(items, previous);
    });
    $(folder).addEventListener('change', (e) => {
      const items = [...e.target.files]
        .filter((f) => READABLE.test(f.name))
        .map((file) => ({ name: file.webkitRelativePath || file.name, file }));
      e.target.value = '';
      addFiles(items, previous);
    });
    $(clear).addEventListener('click', () => clearFiles(previous));
    const zone = $(drop);
    for (const t of ['dragenter', 'dragover']) {
      zone.addEventListener(t, (e) => {
        e.preventDefault();
        zone.classList.add('over');
      });
    }
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', async (e) => {
      e.preventDefault();
      e.stopPropagation();
      zone.classList.remove('over');
      if (busy) return;
      const items = [];
      const entries = [...(e.dataTransfer.items || [])].map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
      if (entries.length && entries.every(Boolean)) {
        for (const entry of entries) await entryFiles(entry, items);
      } else {
        for (const file of e.dataTransfer.files) items.push({ name: file.name, file });
      }
      addFiles(items.filter((i) => READABLE.test(i.name)), previous);
    });
  }

  function wireChoosing() {
    wireArea({ drop: 'drop', files: 'pick-files', folder: 'pick-folder', clear: 'clear', previous: false });
    wireArea({ drop: 'drop-prev', files: 'pick-prev-files', folder: 'pick-prev-folder', clear: 'clear-prev', previous: true });
    // Files dropped outside the drop zones are not opened by the browser.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
  }

  // ---- returns and years -----------------------------------------------------------------------

  async function detect() {
    clearResults();
    if (chosen.size === 0 && chosenPrev.size === 0) {
      detected = [];
      detectedPrev = [];
      $('returns').hidden = true;
      return;
    }
    showWorking('Reading the files\u2026');
    try {
      const r = await call('detect');
      detected = r.submissions;
      detectedPrev = r.previous || [];
      renderSubs(r.skipped);
    } finally {
      hideWorking();
    }
  }

  function yearsOf(ret) {
    const r = info && info.returns.find((x) => x.name === ret);
    return r ? r.years : [];
  }

  function renderSubs(skipped) {
    const tbody = $('subs').querySelector('tbody');
    tbody.replaceChildren();
    detected.forEach((d, i) => {
      const retSel = el('select', { id: `ret-${i}`, 'aria-label': `Return of ${d.display}` });
      retSel.append(el('option', { value: '', text: d.return ? `${returnName(d.return)} (found)` : 'Choose the return\u2026' }));
      for (const r of info.returns) retSel.append(el('option', { value: r.name, text: returnName(r.name) }));
      const yearSel = el('select', { id: `year-${i}`, 'aria-label': `Collection year of ${d.display}` });
      const fillYears = () => {
        const ret = retSel.value || d.return;
        const sameAsFound = !retSel.value || retSel.value === d.return;
        yearSel.replaceChildren(
          el('option', { value: '', text: sameAsFound && d.year ? `${d.year} (found)` : 'From the file, else the latest' }),
        );
        for (const y of yearsOf(ret)) yearSel.append(el('option', { value: y, text: y }));
      };
      retSel.addEventListener('change', fillYears);
      fillYears();
      const notes = el('td', { class: 'note' });
      if (d.error) notes.append(el('span', { class: 'err', text: d.error }));
      for (const n of d.notes) notes.append(el('div', { text: n.replace(/^note: /, '') }));
      if (!d.error && !d.notes.length) notes.append(`${d.format.toUpperCase()}, ${plural(d.files.length, 'file', 'files')}`);
      tbody.append(el('tr', {}, el('td', { class: 'file', text: d.display }), el('td', {}, retSel), el('td', {}, yearSel), notes));
    });
    // Last year's files: their return and year as found (told from the files alone, as with
    // `fettle validate --previous`); whether they fit this year's is said when checking.
    const prevBody = $('prev-subs').querySelector('tbody');
    prevBody.replaceChildren();
    for (const d of detectedPrev) {
      const notes = el('td', { class: 'note' });
      if (d.error) notes.append(el('span', { class: 'err', text: d.error }));
      for (const n of d.notes) notes.append(el('div', { text: n.replace(/^note: /, '') }));
      if (!d.error && !d.notes.length) notes.append(`${d.format.toUpperCase()}, ${plural(d.files.length, 'file', 'files')}`);
      prevBody.append(
        el('tr', {}, el('td', { class: 'file', text: d.display }), el('td', { text: d.return ? returnName(d.return) : '' }), el('td', { text: d.year || '' }), notes),
      );
    }
    $('prev-found').hidden = detectedPrev.length === 0;
    const sk = $('skipped');
    sk.hidden = !skipped.length;
    sk.textContent = skipped.length ? `Not read (not xml, xlsx or csv): ${skipped.join(', ')}` : '';
    $('returns').hidden = detected.length === 0 && detectedPrev.length === 0 && !skipped.length;
    $('validate').disabled = detected.length === 0;
  }

  // ---- progress --------------------------------------------------------------------------------

  let workStart = 0;
  let lastLive = '';
  let lastDetail = '';
  let progressSeen = 0; // progress reports received (read by the browser test)
  let clock = 0;
  const elapsed = () => `${((performance.now() - workStart) / 1000).toFixed(1)} s`;
  function showWorking(label) {
    workStart = performance.now();
    lastDetail = '';
    clearInterval(clock);
    // The time taken, kept ticking while a long step (reading a large file) says nothing.
    clock = setInterval(() => {
      $('progress-detail').textContent = `${lastDetail}${elapsed()}`;
    }, 250);
    $('working').hidden = false;
    $('progress-label').textContent = label;
    $('progress').removeAttribute('value');
    $('progress-detail').textContent = '';
    lastLive = label;
    $('progress-live').textContent = label;
  }
  function hideWorking() {
    clearInterval(clock);
    $('working').hidden = true;
  }
  onProgress = (s) => {
    const bar = $('progress');
    const parts = Math.max(1, s.parts);
    if (s.total > 0 || parts > 1) {
      const within = s.total > 0 ? s.done / s.total : 0;
      bar.value = Math.min(1, (s.part - 1 + within) / parts);
    } else {
      bar.removeAttribute('value');
    }
    $('progress-label').textContent = s.stage;
    const part = parts > 1 ? `file ${s.part} of ${parts}; ` : '';
    const rules = s.total > 0 ? `rule ${s.done} of ${s.total}; ` : '';
    lastDetail = `${part}${rules}`;
    $('progress-detail').textContent = `${lastDetail}${elapsed()}`;
    progressSeen += 1;
    document.documentElement.dataset.progress = String(progressSeen);
    if (s.stage !== lastLive) {
      lastLive = s.stage;
      $('progress-live').textContent = s.stage;
    }
  };

  // ---- validating ------------------------------------------------------------------------------

  async function validate() {
    if (busy) return;
    const choices = detected.map((d, i) => ({ return: $(`ret-${i}`).value || null, year: $(`year-${i}`).value || null }));
    showProblem('');
    clearResults();
    setBusy(true);
    showWorking('Checking\u2026');
    try {
      const r = await call('validate', { request: { choices } });
      outcome = r.outcome;
      window.fettle = { ...(window.fettle || {}), validateMs: r.ms };
      renderResults();
      $('results-h').focus();
    } catch (e) {
      showProblem(e.message);
    } finally {
      hideWorking();
      setBusy(false);
    }
  }

  // ---- results ---------------------------------------------------------------------------------

  const urls = [];
  function clearResults() {
    outcome = null;
    model = null;
    openGroups.clear();
    for (const u of urls.splice(0)) URL.revokeObjectURL(u);
    $('results').hidden = true;
    document.documentElement.dataset.results = 'none';
  }

  function renderResults() {
    const o = outcome;
    const s = o.summary;
    const counts = $('counts');
    counts.replaceChildren(
      el('li', { class: 'error', id: 'count-error' }, el('span', { class: 'n', text: s.errors.toLocaleString('en-GB') }), s.errors === 1 ? 'error' : 'errors'),
      el('li', { class: 'query', id: 'count-query' }, el('span', { class: 'n', text: s.queries.toLocaleString('en-GB') }), s.queries === 1 ? 'query' : 'queries'),
      el('li', { class: 'info', id: 'count-info' }, el('span', { class: 'n', text: s.info.toLocaleString('en-GB') }), 'info'),
    );
    const tbody = $('sub-summary').querySelector('tbody');
    tbody.replaceChildren();
    for (const v of o.submissions) {
      tbody.append(
        el(
          'tr',
          {},
          el('td', { class: 'file', text: v.display }),
          el('td', { text: returnName(v.return) }),
          el('td', { text: v.year }),
          el('td', { class: 'num', text: String(v.summary.errors) }),
          el('td', { class: 'num', text: String(v.summary.queries) }),
          el('td', { class: 'num', text: String(v.summary.info) }),
        ),
      );
    }
    // Which of last year's files each file was checked against (`fettle validate --previous`).
    const used = $('previous-used');
    used.replaceChildren();
    for (const p of o.previous || []) {
      used.append(el('li', { text: `${p.file}: checked against last year's \`${p.previous}\` (${p.year})` }));
    }
    used.hidden = !(o.previous || []).length;
    const notes = $('notes');
    notes.replaceChildren();
    for (const e of o.errors) notes.append(el('li', { class: 'err', text: e }));
    for (const n of o.notes) notes.append(el('li', { text: n.replace(/^note: /, '') }));

    renderDownloads();

    const files = $('file-filter');
    files.replaceChildren(el('option', { value: '', text: 'All files' }));
    for (const v of o.submissions) files.append(el('option', { value: v.display, text: v.display }));
    $('file-filter-wrap').hidden = o.submissions.length < 2;

    buildModel();
    if (o.findings.length <= OPEN_UP_TO) for (const code of Object.keys(s.by_rule)) openGroups.add(`rule:${code}`);
    renderGroups();
    $('results').hidden = false;
    document.documentElement.dataset.results = 'shown';
  }

  function stem(name) {
    return name.split('/').pop().replace(/\.[^.]+$/, '');
  }

  function renderDownloads() {
    const ul = $('downloads');
    ul.replaceChildren();
    const add = (id, label, desc, request, fileName, type) => {
      const b = el('button', { type: 'button', class: 'button', id }, label, el('span', { class: 'desc', text: desc }));
      b.addEventListener('click', () => download(b, request, fileName, type));
      ul.append(el('li', {}, b));
    };
    const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    add('dl-xlsx', 'Excel report', 'summary, findings, a sheet per child', { kind: 'xlsx' }, 'fettle-report.xlsx', xlsx);
    outcome.submissions.forEach((v) => {
      if (v.format !== 'xlsx') return;
      const i = detected.findIndex((d) => d.display === v.display);
      if (i < 0) return;
      add(`dl-annotated-${i}`, `Marked-up copy of ${v.display.split('/').pop()}`, 'every cell with a finding highlighted, with a note',
        { kind: 'annotated', submission: i }, `${stem(v.display)}-checked.xlsx`, xlsx);
    });
    add('dl-json', 'JSON', 'every finding, for other tools', { kind: 'json' }, 'fettle-report.json', 'application/json');
    add('dl-html', 'Web page report', 'one file to keep or share', { kind: 'html' }, 'fettle-report.html', 'text/html');
  }

  async function download(button, request, fileName, type) {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    const desc = button.querySelector('.desc');
    const before = desc.textContent;
    desc.textContent = 'making it\u2026';
    try {
      const r = await call('report', { request });
      const url = URL.createObjectURL(new Blob([r.bytes], { type }));
      urls.push(url);
      const a = el('a', { href: url, download: fileName, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      desc.textContent = `${before} (${bytesText(r.bytes.byteLength)})`;
    } catch (e) {
      showProblem(e.message);
      desc.textContent = before;
    } finally {
      button.removeAttribute('aria-busy');
    }
  }

  // ---- findings --------------------------------------------------------------------------------

  function buildModel() {
    const rules = outcome.rules;
    const sevOfRule = {};
    for (const f of outcome.findings) {
      const s = rules[f.code] ? rules[f.code].severity : f.severity;
      const prev = sevOfRule[f.code];
      if (!prev || SEVERITIES.indexOf(s) < SEVERITIES.indexOf(prev)) sevOfRule[f.code] = s;
    }
    const items = outcome.findings.map((f, i) => {
      const loc = placeText(f);
      const text = [f.code, f.message, f.child, loc, f.table, f.file, valuesText(f), relatedText(f), f.fields.join(' '), f.explained]
        .filter(Boolean)
        .join(' ')
        .toLowerCase();
      return { f, i, loc, text };
    });
    model = { items, sevOfRule, total: items.length };
  }

  function filtered() {
    const words = $('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
    const sevs = new Set(SEVERITIES.filter((s) => $(`show-${s}`).checked));
    const file = $('file-filter').value;
    return model.items.filter(
      (it) => sevs.has(it.f.severity) && (!file || it.f.file === file) && words.every((w) => it.text.includes(w)),
    );
  }

  function ruleTitle(code, list) {
    const first = list.length ? list[0].f.message : '';
    if (first && list.every((it) => it.f.message === first)) return first;
    const r = outcome.rules[code];
    if (r) return r.message;
    // A value that does not fit its column's type: an input check's finding on a cell's raw text.
    const misfit = (f) => f.kind === 'input' && f.values.some((v) => v.type === 'unfit');
    if (list.length && list.every((it) => misfit(it.f))) return "values that do not fit their column's type";
    return first;
  }

  function groupsByRule(items) {
    const m = new Map();
    for (const it of items) {
      if (!m.has(it.f.code)) m.set(it.f.code, []);
      m.get(it.f.code).push(it);
    }
    const all = outcome.summary.by_rule;
    return [...m.entries()]
      .map(([code, list]) => ({ key: `rule:${code}`, code, sev: model.sevOfRule[code], list, of: all[code] || list.length }))
      .sort((a, b) => SEVERITIES.indexOf(a.sev) - SEVERITIES.indexOf(b.sev) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  }

  function groupsByChild(items) {
    const m = new Map();
    const ofChild = new Map();
    for (const it of model.items) ofChild.set(it.f.child || '', (ofChild.get(it.f.child || '') || 0) + 1);
    for (const it of items) {
      const c = it.f.child || '';
      if (!m.has(c)) m.set(c, []);
      m.get(c).push(it);
    }
    return [...m.entries()]
      .map(([child, list]) => {
        const worst = list.reduce((w, it) => Math.min(w, SEVERITIES.indexOf(it.f.severity)), 2);
        return { key: `child:${child}`, child, sev: SEVERITIES[worst], list, of: ofChild.get(child) || list.length };
      })
      .sort((a, b) => (a.child === '' ? 1 : b.child === '' ? -1 : a.child < b.child ? -1 : a.child > b.child ? 1 : 0));
  }

  function countText(g) {
    const n = g.list.length;
    return n === g.of ? plural(n, 'finding', 'findings') : `${n.toLocaleString('en-GB')} of ${plural(g.of, 'finding', 'findings')}`;
  }

  function renderGroups() {
    if (!model) return;
    const items = filtered();
    const status = $('filter-status');
    const total = model.total;
    status.textContent =
      total === 0
        ? 'No findings: the files pass every rule.'
        : items.length === total
          ? `Showing all ${plural(total, 'finding', 'findings')}.`
          : `Showing ${items.length.toLocaleString('en-GB')} of ${plural(total, 'finding', 'findings')}.`;
    renderPanel($('by-rule'), groupsByRule(items), ruleGroup, items.length, total);
    renderPanel($('by-child'), groupsByChild(items), childGroup, items.length, total);
  }

  function renderPanel(panel, groups, make, shownCount, total) {
    panel.replaceChildren();
    if (total > 0 && shownCount === 0) {
      panel.append(el('p', { class: 'empty', id: panel.id === 'by-rule' ? 'no-match' : undefined, text: 'No finding matches the filter.' }));
      return;
    }
    let drawn = 0;
    const more = el('button', { type: 'button', class: 'link-button more' });
    const drawMore = () => {
      const next = groups.slice(drawn, drawn + GROUPS_AT_ONCE);
      for (const g of next) panel.insertBefore(make(g), more);
      drawn += next.length;
      more.hidden = drawn >= groups.length;
      more.textContent = `Show ${Math.min(GROUPS_AT_ONCE, groups.length - drawn)} more of ${groups.length - drawn} remaining groups`;
    };
    panel.append(more);
    more.addEventListener('click', () => {
      const first = drawn;
      drawMore();
      const summary = panel.querySelectorAll('details.group > summary')[first];
      if (summary) summary.focus();
    });
    drawMore();
  }

  /** A collapsible group whose body is drawn when first opened. */
  function group(g, summaryParts, body) {
    const d = el('details', { class: 'group', 'data-key': g.key });
    const summary = el('summary', {}, ...summaryParts);
    d.append(summary);
    let drawn = false;
    const draw = () => {
      if (drawn) return;
      drawn = true;
      d.append(body());
    };
    d.addEventListener('toggle', () => {
      if (d.open) {
        openGroups.add(g.key);
        draw();
      } else {
        openGroups.delete(g.key);
      }
    });
    if (openGroups.has(g.key)) {
      draw();
      d.open = true;
    }
    return d;
  }

  const badge = (sev) => el('span', { class: `sev sev-${sev}`, text: sev });

  function ruleGroup(g) {
    const d = group(
      g,
      [el('span', { class: 'code', text: g.code }), badge(g.sev), el('span', { class: 'title', text: ruleTitle(g.code, g.list) }), el('span', { class: 'count', text: countText(g) })],
      () =>
        el(
          'div',
          { class: 'group-body' },
          ruleBlock(g.code, g.list),
          rowsTable(g.list, ['Where', 'Child', 'Message', 'Values', 'Other rows'], (it) => [
            el('td', { class: 'loc', text: it.loc || it.f.table || '' }),
            el('td', { class: 'child', text: it.f.child || '' }),
            messageCell(it.f),
            el('td', { class: 'vals', text: valuesText(it.f) }),
            el('td', { class: 'vals', text: relatedText(it.f) }),
          ]),
        ),
    );
    d.dataset.code = g.code;
    d.id = `rule-${g.code.replace(/[^A-Za-z0-9_-]/g, '-')}`;
    return d;
  }

  function childGroup(g) {
    const codes = [...new Set(g.list.map((it) => it.f.code))];
    const rules = `${codes.length === 1 ? 'rule' : 'rules'} ${codes.slice(0, 8).join(', ')}${codes.length > 8 ? ', \u2026' : ''}`;
    const title = g.child ? rules : `Not about one child (the file, a header or a whole table): ${rules}`;
    const d = group(
      g,
      [el('span', { class: 'code', text: g.child || '\u2014' }), badge(g.sev), el('span', { class: 'title', text: title }), el('span', { class: 'count', text: countText(g) })],
      () =>
        el(
          'div',
          { class: 'group-body' },
          rowsTable(g.list, ['Rule', 'Where', 'Message', 'Values'], (it) => [
            el('td', {}, el('button', { type: 'button', class: 'link-button', title: `Show rule ${it.f.code}`, text: it.f.code, onclick: () => showRule(it.f.code) }), ' ', badge(it.f.severity)),
            el('td', { class: 'loc', text: it.loc || it.f.table || '' }),
            messageCell(it.f),
            el('td', { class: 'vals', text: valuesText(it.f) }),
          ]),
        ),
    );
    d.classList.add('child');
    d.dataset.child = g.child;
    return d;
  }

  function messageCell(f) {
    const td = el('td', { text: f.message });
    if (f.explained) td.append(el('div', { class: 'explained', text: `Explained: ${f.explained}` }));
    return td;
  }

  function rowsTable(list, heads, cells) {
    const wrap = el('div', { class: 'table-wrap' });
    const table = el('table', { class: 'findings' });
    table.append(el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', text: h })))));
    const tbody = el('tbody');
    table.append(tbody);
    wrap.append(table);
    let drawn = 0;
    const more = el('button', { type: 'button', class: 'link-button more' });
    const drawMore = () => {
      for (const it of list.slice(drawn, drawn + ROWS_AT_ONCE)) {
        const tr = el('tr', { class: `finding sev-row-${it.f.severity}` }, ...cells(it));
        tr.dataset.i = String(it.i);
        tbody.append(tr);
      }
      drawn = Math.min(list.length, drawn + ROWS_AT_ONCE);
      more.hidden = drawn >= list.length;
      more.textContent = `Show ${Math.min(ROWS_AT_ONCE, list.length - drawn)} more of ${list.length - drawn} remaining findings`;
    };
    more.addEventListener('click', drawMore);
    drawMore();
    wrap.append(more);
    return wrap;
  }

  function ruleBlock(code, list) {
    const r = outcome.rules[code];
    if (!r) {
      return el('div', { class: 'rule' }, el('p', {
        text: list.length && list[0].f.kind === 'input'
          ? 'Found while reading the file: a value that does not fit its column, or a sheet, column or row that is missing or cannot be linked.'
          : 'No rule text for this code.',
      }));
    }
    const dl = el('dl');
    const row = (k, v) => v && dl.append(el('dt', { text: k }), el('dd', { text: v }));
    row('Message', r.message);
    row('How to fix', r.fix);
    row('Why', r.note);
    row('Fields', r.fields.join(', '));
    row('Rules', `${returnName(r.ret)} ${r.year}, ${r.file} line ${r.line}`);
    const pre = el('pre', { tabindex: '0', 'aria-label': `Rule ${code} as written` }, el('code', { text: r.text }));
    return el('div', { class: 'rule' }, dl, el('details', { class: 'rule-text' }, el('summary', { text: `The rule as written` }), pre));
  }

  function showRule(code) {
    selectTab('rule', false);
    const key = `rule:${code}`;
    openGroups.add(key);
    let d = $('by-rule').querySelector(`details.group[data-key="${CSS.escape(key)}"]`);
    if (!d) {
      // Filtered out or not drawn yet: clear the filter and draw again.
      $('filter').value = '';
      renderGroups();
      d = $('by-rule').querySelector(`details.group[data-key="${CSS.escape(key)}"]`);
    }
    if (d) {
      d.open = true;
      d.scrollIntoView({ block: 'start' });
      d.querySelector('summary').focus();
    }
  }

  // ---- tabs and filters ------------------------------------------------------------------------

  function selectTab(which, focus) {
    activeTab = which;
    for (const [t, panel] of [['rule', 'by-rule'], ['child', 'by-child']]) {
      const tab = $(`tab-${t}`);
      const on = t === which;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      $(panel).hidden = !on;
      if (on && focus) tab.focus();
    }
  }

  function wireFindings() {
    let timer = 0;
    $('filter').addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(renderGroups, 120);
    });
    for (const s of SEVERITIES) $(`show-${s}`).addEventListener('change', renderGroups);
    $('file-filter').addEventListener('change', renderGroups);
    for (const t of ['rule', 'child']) {
      const tab = $(`tab-${t}`);
      tab.addEventListener('click', () => selectTab(t, true));
      tab.addEventListener('keydown', (e) => {
        if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) {
          e.preventDefault();
          const other = t === 'rule' ? 'child' : 'rule';
          const to = e.key === 'Home' ? 'rule' : e.key === 'End' ? 'child' : other;
          selectTab(to, true);
        }
      });
    }
  }

  // ---- wiring ----------------------------------------------------------------------------------

  wireChoosing();
  wireFindings();
  $('validate').addEventListener('click', validate);
  init();
})();
