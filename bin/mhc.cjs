#!/usr/bin/env node
'use strict';
// Loads the bundled CLI (dist/mhc.cjs) through a V8 code cache made by `npm run build`, so
// start-up skips compiling ~1 MB of JavaScript. A cache from another Node/V8 version is
// rejected by V8 and the bundle is simply compiled as usual. The bundles the CLI loads only when
// needed (dist/archiver.cjs, for --tar) come through their own code caches the same way.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const dist = path.join(__dirname, '..', 'dist');
const loaded = new Map();

/** Runs one bundle of dist/ as a CommonJS module (once) and returns its exports. */
function load(file, source) {
  const known = loaded.get(file);
  if (known) return known.exports;
  let cachedData;
  try {
    cachedData = fs.readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source ?? fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (process.env.MHC_WRITE_CODE_CACHE === '1') {
    // used by scripts/build.mjs after a training run: the cache then holds every function used
    process.once('exit', () => fs.writeFileSync(`${file}.cache`, script.createCachedData()));
  }
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  loaded.set(file, mod);
  const plain = Module.createRequire(file);
  const req = Object.assign((id) => (/^\.\/[\w-]+\.cjs$/.test(id) ? load(path.join(dist, id)) : plain(id)), plain);
  script.runInThisContext()(mod.exports, req, mod, file, dist);
  mod.loaded = true;
  return mod.exports;
}

const main = path.join(dist, 'mhc.cjs');
let source;
try {
  source = fs.readFileSync(main, 'utf8');
} catch {
  process.stderr.write('mhc: not built yet; run `npm ci` (or `npm run build`) in the mhc checkout first\n');
  process.exit(3);
}
load(main, source);
