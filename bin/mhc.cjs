#!/usr/bin/env node
'use strict';
// Loads the bundled CLI (dist/mhc.cjs) through a V8 code cache made by `npm run build`, so
// start-up skips compiling ~1 MB of JavaScript. A cache from another Node/V8 version is
// rejected by V8 and the bundle is simply compiled as usual.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, '..', 'dist', 'mhc.cjs');
let source;
try {
  source = fs.readFileSync(file, 'utf8');
} catch {
  process.stderr.write('mhc: not built yet; run `npm ci` (or `npm run build`) in the mhc checkout first\n');
  process.exit(3);
}
let cachedData;
try {
  cachedData = fs.readFileSync(`${file}.cache`);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (process.env.MHC_WRITE_CODE_CACHE === '1') {
  // used by scripts/build.mjs after a training run: the cache then holds every function used
  process.once('exit', () => fs.writeFileSync(`${file}.cache`, script.createCachedData()));
}
const mod = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
