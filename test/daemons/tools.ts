// Daemon checks must fail, never skip, when a tool is missing (CI installs them all).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function requireTool(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (r.status !== 0 || !p) throw new Error(`${name} is not installed: run scripts/setup-ci.sh (apt packages) first`);
  return p;
}

export const scratch = (tag: string): string => mkdtempSync(join(tmpdir(), `mhc-${tag}-`));

export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 20000, env: opts.env ?? process.env });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export { execFileSync };
