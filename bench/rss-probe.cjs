// Preloaded into every measured process: reports its peak RSS (KiB) on fd 3 at exit.
process.on('exit', () => {
  try {
    require('node:fs').writeSync(3, String(process.resourceUsage().maxRSS) + '\n');
  } catch {}
});
