// Golden files in the style of the TypeScript baselines and Helm's -update: expected output is
// committed; UPDATE_GOLDEN=1 rewrites it (refused under CI); the reviewer reads the git diff.
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export const UPDATE = process.env.UPDATE_GOLDEN === '1';
if (UPDATE && process.env.CI) throw new Error('UPDATE_GOLDEN=1 is refused when CI is set: goldens are reviewed, never rewritten by CI');

/** Compares `actual` with the golden file; rewrites it under UPDATE_GOLDEN=1. Returns the expected text. */
export function golden(path: string, actual: string): string {
  if (UPDATE) {
    mkdirSync(dirname(path), { recursive: true });
    if (!existsSync(path) || readFileSync(path, 'utf8') !== actual) writeFileSync(path, actual);
    return actual;
  }
  if (!existsSync(path)) throw new Error(`missing golden ${path}: run UPDATE_GOLDEN=1 npm test and review the new file`);
  return readFileSync(path, 'utf8');
}

export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Rewrites a whole golden tree (files not produced any more are removed). */
export function writeTree(dir: string, files: ReadonlyMap<string, string>): void {
  if (!UPDATE) return;
  for (const old of listTree(dir)) if (!files.has(old)) rmSync(join(dir, old));
  for (const [p, content] of files) golden(join(dir, p), content);
}
