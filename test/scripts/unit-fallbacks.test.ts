// The generic functions a service without its own start, stop or status code gets
// (phase_units, stop_units, check_units): phase_units runs as phase 7 (backup) and stop_units
// stops web in the sandbox tests; check_units has no service of its own yet, so it is run here
// as generated, with systemctl's answers stubbed, on a unit list like a new service's.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFile, EXAMPLES } from '../helpers.js';

const status = buildFile(join(EXAMPLES, 'slurm_only.yaml')).get('server1/bin/status_multihead.sh')!.content;

/** The text of bash function NAME in SCRIPT: its one line, or from `NAME() {` to the first `}` in column 0. */
function fn(script: string, name: string): string {
  const lines = script.split('\n');
  const one = lines.find((l) => l.startsWith(`${name}() { `) && l.endsWith('}'));
  if (one) return one;
  const start = lines.indexOf(`${name}() {`);
  expect(start, name).toBeGreaterThan(0);
  return lines.slice(start, lines.indexOf('}', start) + 1).join('\n');
}

/** check_units on UNITS, those in ACTIVE active: "STATE|MESSAGE|DETAILS". */
function checkUnits(units: string[], active: string[]): string {
  const script = [
    'set -euo pipefail',
    `service_units() { printf '%s\\n' ${units.join(' ')}; }`,
    `unit_active() { [[ " ${active.join(' ')} " == *" $1 "* ]]; }`,
    'one_line() { printf \'%s\' "$1"; }',
    fn(status, 'det'),
    fn(status, 'set_state'),
    fn(status, 'check_units'),
    'declare -A STATE=() MESSAGE=() DETAILS=(); CUR=x; DETAILS[x]=""',
    'check_units x',
    'printf \'%s|%s|%s\' "${STATE[x]}" "${MESSAGE[x]}" "${DETAILS[x]//$\'\\n\'/;}"',
  ].join('\n');
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 10_000 });
  expect(r.stderr).toBe('');
  return r.stdout;
}

describe('check_units (status of a service without check_<service>)', () => {
  it('running when every unit is active, stopped when none is, degraded in between; each unit a detail', () => {
    expect(checkUnits(['a.service', 'b.service'], ['a.service', 'b.service'])).toBe('running|2/2 units active|a.service\tactive;b.service\tactive;');
    expect(checkUnits(['a.service', 'b.service'], [])).toBe('stopped|no unit active (2)|a.service\tinactive;b.service\tinactive;');
    expect(checkUnits(['a.service', 'b.service'], ['b.service'])).toBe('degraded|1/2 units active|a.service\tinactive;b.service\tactive;');
  });

  it('every service of the examples has its own check, so check_units is only the fallback', () => {
    for (const s of ['glusterfs', 'mariadb', 'redis', 'slurm', 'keepalived', 'web']) expect(status).toContain(`check_${s}() {`);
  });
});
