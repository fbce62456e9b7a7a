#!/usr/bin/env node
'use strict';
try {
  require('../dist/mhc.cjs');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && /dist[\\/]mhc\.cjs/.test(String(e.message))) {
    process.stderr.write('mhc: not built yet; run `npm ci` (or `npm run build`) in the mhc checkout first\n');
    process.exit(3);
  }
  throw e;
}
