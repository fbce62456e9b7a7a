// A bug in mhc (E900, exit 4): an exception no layer expected (a CompilerBug, a TypeError…). The
// CLI reports it on two lines, the stack only when asked (MHC_DEBUG=1). A system call's failure
// that reaches the CLI unwrapped (ENOENT, EACCES…) is not a bug: it is an I/O error (exit 3).
import { printable } from './diagnostics.js';

/** The second line of every internal error. */
export const BUG_HINT = 'this is a bug in mhc, not a problem with your input: please report it with the input and the command line (MHC_DEBUG=1 prints where it happened)';

/** A failed system call (ENOENT, EACCES, EISDIR…), as node:fs and node:child_process throw it. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException | undefined;
  return e instanceof Error && typeof x?.code === 'string' && /^E[A-Z0-9]+$/.test(x.code) && typeof x.syscall === 'string';
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** What the CLI prints for a bug: `mhc: internal error[E900]: <message>`, the hint, and with `stack` the stack (and its causes'). */
export function formatInternalError(e: unknown, stack: boolean): string {
  let s = `mhc: internal error[E900]: ${printable(messageOf(e))}\nmhc: ${BUG_HINT}\n`;
  if (stack) {
    const seen = new Set<unknown>();
    for (let c: unknown = e; c !== undefined && !seen.has(c); c = c instanceof Error ? c.cause : undefined) {
      seen.add(c);
      const text = c instanceof Error && c.stack ? c.stack : messageOf(c);
      s += `${c === e ? '' : 'caused by: '}${text
        .split('\n')
        .map((l) => printable(l, true))
        .join('\n')}\n`;
    }
  }
  return s;
}
