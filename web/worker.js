// fettle's engine in a Web Worker, so that reading and checking large files never blocks the page.
//
// Loads pkg/fettle.wasm (built by `bash web/build.sh`) and talks to it through its hand-made ABI
// (documented in web/wasm/src/lib.rs): requests are copied into the module's memory with `alloc`,
// results come back as [u32 length][u8 status][payload] and are freed with `dealloc`.
//
// Messages from the page: {id, op, ...}; answers: {id, ok, result} or {id, ok: false, error}, and
// {type: 'progress', step} while a long step runs. The files are kept here (as File objects, read
// only when added) so that the engine can be started again with them if it ever stops on a bug.
'use strict';

const WASM_URL = 'pkg/fettle.wasm';
const enc = new TextEncoder();
const dec = new TextDecoder();

let module = null; // WebAssembly.Module, compiled once
let x = null; // the instance's exports
let panicMessage = '';
const files = new Map(); // name -> File or Blob, this year's
const prevFiles = new Map(); // the same, last year's return (`fettle validate --previous`)
const filesOf = (previous) => (previous ? prevFiles : files);

function imports() {
  return {
    env: {
      fettle_now: () => Date.now(),
      fettle_progress: (ptr, len) => {
        try {
          const step = JSON.parse(dec.decode(new Uint8Array(x.memory.buffer, ptr, len)));
          postMessage({ type: 'progress', step });
        } catch (e) {
          /* a progress report that cannot be read is dropped */
        }
      },
      fettle_panic: (ptr, len) => {
        panicMessage = dec.decode(new Uint8Array(x.memory.buffer, ptr, len));
      },
    },
  };
}

async function compile() {
  const t0 = performance.now();
  let response;
  try {
    response = await fetch(WASM_URL, { cache: 'no-cache' });
  } catch (e) {
    throw new Error(`cannot load ${WASM_URL}: ${e.message}. Open the page from a web server (for example \`fettle serve\`), not as a file.`);
  }
  if (!response.ok) {
    throw new Error(
      response.status === 404
        ? `${WASM_URL} is missing: build it with \`bash web/build.sh\` (and rebuild fettle for \`fettle serve\`).`
        : `cannot load ${WASM_URL}: HTTP ${response.status}`,
    );
  }
  const bytes = await response.arrayBuffer();
  module = await WebAssembly.compile(bytes);
  return { size: bytes.byteLength, compileMs: performance.now() - t0 };
}

function instantiate() {
  x = new WebAssembly.Instance(module, imports()).exports;
  panicMessage = '';
}

/** Copies bytes into the module's memory; returns [ptr, len]. The callee frees them. */
function put(bytes) {
  const ptr = x.alloc(bytes.length);
  new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

/** Reads and frees a result; returns its payload or throws its message. */
function take(ptr) {
  const view = new DataView(x.memory.buffer);
  const len = view.getUint32(ptr, true);
  const status = view.getUint8(ptr + 4);
  const payload = new Uint8Array(x.memory.buffer, ptr + 5, len - 1).slice();
  x.dealloc(ptr, len + 4);
  if (status !== 0) throw new Error(dec.decode(payload));
  return payload;
}

const json = (bytes) => JSON.parse(dec.decode(bytes));

async function addFile(name, blob, previous) {
  const data = new Uint8Array(await blob.arrayBuffer());
  const [np, nl] = put(enc.encode(name));
  const [dp, dl] = put(data);
  take((previous ? x.add_previous_file : x.add_file)(np, nl, dp, dl));
}

/** Runs `f`; if the module traps (a bug), starts a fresh instance with the same files. */
async function guarded(f) {
  try {
    return await f();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      const why = panicMessage || e.message;
      instantiate();
      for (const [name, blob] of files) await addFile(name, blob, false);
      for (const [name, blob] of prevFiles) await addFile(name, blob, true);
      throw new Error(`fettle stopped on a bug (${why}). Your files are still chosen; please report this.`);
    }
    throw e;
  }
}

const ops = {
  async init() {
    const loaded = await compile();
    const t0 = performance.now();
    instantiate();
    const info = json(take(x.info()));
    return { ...loaded, instantiateMs: performance.now() - t0, info };
  },
  // `previous`: the files are last year's return.
  async add({ items, previous }) {
    for (const { name, file } of items) {
      filesOf(previous).set(name, file);
      await addFile(name, file, previous);
    }
    return { files: filesOf(previous).size };
  },
  async remove({ name, previous }) {
    filesOf(previous).delete(name);
    const [p, l] = put(enc.encode(name));
    take((previous ? x.remove_previous_file : x.remove_file)(p, l));
    return { files: filesOf(previous).size };
  },
  async clear({ previous }) {
    filesOf(previous).clear();
    take(previous ? x.clear_previous() : x.clear());
    return { files: 0 };
  },
  async detect() {
    return json(take(x.detect()));
  },
  async validate({ request }) {
    const t0 = performance.now();
    const [p, l] = put(enc.encode(JSON.stringify(request || {})));
    const bytes = take(x.validate(p, l));
    const t1 = performance.now();
    const outcome = json(bytes);
    return { outcome, ms: t1 - t0 };
  },
  async report({ request }) {
    const [p, l] = put(enc.encode(JSON.stringify(request)));
    const bytes = take(x.report(p, l));
    return { bytes };
  },
};

let queue = Promise.resolve();
self.onmessage = (ev) => {
  const { id, op } = ev.data || {};
  // One request at a time, in order.
  queue = queue.then(async () => {
    const f = ops[op];
    if (!f) {
      postMessage({ id, ok: false, error: `unknown request ${op}` });
      return;
    }
    try {
      const result = op === 'init' ? await f(ev.data) : await guarded(() => f(ev.data));
      const transfer = result && result.bytes ? [result.bytes.buffer] : [];
      postMessage({ id, ok: true, result }, transfer);
    } catch (e) {
      postMessage({ id, ok: false, error: e && e.message ? e.message : String(e) });
    }
  });
};
