// slurm.conf's per-setting rules (src/emitters/slurm.ts SLURM_SETTINGS) against the documentation
// Debian 12's Slurm ships: slurm.conf(5) of 22.05.8 (slurm-client's man page), parameter by
// parameter. Its rule: a change takes effect on `scontrol reconfigure` unless the parameter says a
// restart is needed; node configuration changes (NODE CONFIGURATION) need slurmctld and every
// slurmd restarted. `dynamic` must say what the man page says; where mhc restarts anyway its rule
// starts with "mhc:".
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { SLURM_SETTINGS } from '../../src/emitters/slurm.js';

const MAN = '/usr/share/man/man5/slurm.conf.5.gz';

/** Each top-level parameter of the man page (a .TP heading outside any .RS/.RE block) → its text. */
function parameters(roff: string): Map<string, string> {
  const lines = roff.split('\n');
  const out = new Map<string, string>();
  let depth = 0;
  let current = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('.RS')) depth++;
    else if (l.startsWith('.RE')) depth = Math.max(0, depth - 1);
    else if (l.startsWith('.SH')) current = '';
    const head = /^\\fB([A-Z][A-Za-z]+)\\fR/.exec(l);
    if (head && depth === 0 && /^\.TP/.test(lines[i - 1] ?? '')) {
      current = head[1]!;
      if (!out.has(current)) out.set(current, '');
      continue;
    }
    if (current) out.set(current, `${out.get(current)} ${l}`);
  }
  return out;
}
const section = (roff: string, title: string): string => {
  const m = new RegExp(`^\\.SH "${title}"\\n([\\s\\S]*?)^\\.SH `, 'm').exec(roff);
  return m?.[1] ?? '';
};
const saysRestart = (text: string) => /restart/i.test(text.replace(/\\-/g, '-'));

describe('slurm.conf(5) of the installed Slurm: every per-setting rule says what it says', () => {
  it(`${MAN} is installed (slurm-client; scripts/setup-ci.sh installs it)`, () => {
    expect(existsSync(MAN), `${MAN}: run scripts/setup-ci.sh`).toBe(true);
  });

  it('each parameter: dynamic unless its text names a restart; the node lines restart every daemon; partitions reconfigure', () => {
    const roff = gunzipSync(readFileSync(MAN)).toString('utf8');
    const params = parameters(roff);
    const seen: string[] = [];
    for (const [key, rule] of Object.entries(SLURM_SETTINGS)) {
      if (key === 'NodeName') {
        const nodes = section(roff, 'NODE CONFIGURATION');
        expect(nodes, 'NODE CONFIGURATION').toMatch(/adding nodes[\s\S]*require restarting both the slurmctld daemon\s+and the slurmd daemons/);
        expect(rule.dynamic).toBe(false);
        continue;
      }
      if (key === 'PartitionName') {
        expect(saysRestart(section(roff, 'PARTITION CONFIGURATION').split('\n').slice(0, 12).join(' '))).toBe(false);
        expect(rule.dynamic).toBe(true);
        continue;
      }
      const text = params.get(key);
      expect(text, `${key}: a parameter of slurm.conf(5)`).toBeDefined();
      expect(rule.dynamic, `${key}: the man page ${saysRestart(text!) ? 'names' : 'names no'} restart`).toBe(!saysRestart(text!));
      if (rule.dynamic && rule.action === 'restart') expect(rule.rule, key).toMatch(/^mhc: /);
      if (!rule.dynamic) expect(rule.rule, key).toMatch(/^slurm\.conf\(5\)/);
      seen.push(key);
    }
    expect(seen.length).toBeGreaterThan(25);
  });
});
