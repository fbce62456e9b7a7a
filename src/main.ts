// Entry point of the bundled CLI (dist/mhc.cjs).
import { EXIT, main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = EXIT.INTERNAL; // main() reports every error itself: this is a bug in it
  },
);
