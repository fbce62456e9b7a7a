import { describe, expect, it } from 'vitest';
import { SourceText } from '../../src/compiler/source.js';
import { didYouMean, editDistance } from '../../src/compiler/did-you-mean.js';
import { cidr, netmaskToPrefix, parseIPv4, prefixToNetmask, sameSubnet } from '../../src/compiler/net.js';
import { dataPathProblem, isCleanAbsPath, isHostname, SYSTEM_DIRS } from '../../src/compiler/formats.js';
import { compileText } from '../helpers.js';
import { makeFile, normalizeText, CompilerBug } from '../../src/compiler/bundle.js';
import { placeholder } from '../../src/compiler/secrets.js';

describe('source positions', () => {
  it('maps offsets to 1-based line and code-point column', () => {
    const s = new SourceText('ab\nçé✓x\n\nlast');
    expect(s.position(0)).toEqual({ line: 1, col: 1 });
    expect(s.position(3)).toEqual({ line: 2, col: 1 });
    expect(s.position(6)).toEqual({ line: 2, col: 4 });
    expect(s.position(9)).toEqual({ line: 4, col: 1 });
    expect(s.lineText(2)).toBe('çé✓x');
    expect(s.lineText(3)).toBe('');
  });
});

describe('did you mean', () => {
  it('suggests close keys only', () => {
    expect(editDistance('hostnme', 'hostname')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(didYouMean('hostnme', ['hostname', 'ip'])).toBe('hostname');
    expect(didYouMean('ip-address', ['ip_address', 'ip'])).toBe('ip_address');
    expect(didYouMean('zzzzzz', ['hostname', 'ip'])).toBeUndefined();
  });
});

describe('IPv4', () => {
  it('parses strictly and computes subnets', () => {
    expect(parseIPv4('10.0.0.1')).toBe(167772161);
    for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.-1']) expect(parseIPv4(bad), bad).toBeUndefined();
    expect(netmaskToPrefix('255.255.254.0')).toBe(23);
    expect(netmaskToPrefix('255.0.255.0')).toBeUndefined();
    expect(prefixToNetmask(20)).toBe('255.255.240.0');
    expect(sameSubnet('172.16.10.10', '172.16.11.21', 23)).toBe(true);
    expect(sameSubnet('172.16.10.10', '172.16.12.1', 23)).toBe(false);
    expect(cidr('192.168.1.100', 24)).toBe('192.168.1.0/24');
  });
});

describe('formats', () => {
  it('hostnames and paths', () => {
    expect(isHostname('server-1')).toBe(true);
    for (const bad of ['server3;reboot', '-a', 'a-', 'a_b', 'a.b', '', 'x'.repeat(64)]) expect(isHostname(bad), bad).toBe(false);
    expect(isCleanAbsPath('/mnt/gluster')).toBe(true);
    for (const bad of ['mnt', '/a/../b', '/a//b', '/a/', '/a b', '/$(x)', '/a/./b']) expect(isCleanAbsPath(bad), bad).toBe(false);
  });
  it('data directories: never a system directory, an ancestor of one, or under a tree that keeps no data', () => {
    for (const d of SYSTEM_DIRS) expect(dataPathProblem(d), d).toBeDefined();
    const refused = ['/', '/usr', '/usr/local', '/var', '/var/lib', '/var/spool', '/var/log', '/var/backups', '/var/lib/mysql', '/opt', '/mnt', '/media', '/srv', '/home', '/lib64'];
    for (const d of refused) expect(dataPathProblem(d), d).toBeDefined();
    for (const d of ['/etc/slurm/state', '/tmp/b', '/var/tmp/x', '/run/slurm', '/proc/x', '/sys/fs/x', '/dev/shm/x', '/boot/b']) expect(dataPathProblem(d), d).toMatch(/lie under/);
    // ancestors of a system directory: /usr/local/x is fine, but not its ancestor /usr
    expect(dataPathProblem('/var/lib/mhc-web')).toBeDefined();
    expect(dataPathProblem('/var')).toBeDefined();
    // the defaults and the examples' directories are data directories of their own
    for (const ok of [
      '/var/spool/slurmctld',
      '/var/backups/cluster',
      '/data/gluster/brick',
      '/mnt/gluster',
      '/mnt/gluster/slurm/state',
      '/shared',
      '/srv/gluster/shared',
      '/var/lib/slurm/slurmctld',
      '/home/shared',
      '/usr/local/backups',
      '/data',
    ]) {
      expect(dataPathProblem(ok), ok).toBeUndefined();
    }
  });
  it('the default data directories pass the data-directory rules', () => {
    const m = compileText('cluster: { name: d }\nnetwork: { vip: 10.0.0.100 }\ncontrollers:\n  - { hostname: a, ip: 10.0.0.1 }\n  - { hostname: b, ip: 10.0.0.2, services: { slurm: true } }\n').model;
    for (const d of [m.backup.dir, m.gluster!.brickPath, m.gluster!.mountPoint, m.slurm!.stateSaveLocation]) expect(dataPathProblem(d), d).toBeUndefined();
  });
});

describe('bundle files', () => {
  it('normalizes to LF with exactly one trailing newline', () => {
    expect(normalizeText('a\r\nb\r\n\n\n')).toBe('a\nb\n');
    expect(normalizeText('')).toBe('\n');
  });
  it('makes files holding a secret unreadable by group and others', () => {
    const f = makeFile('n1', { path: 'files/etc/x.conf', content: `pw=${placeholder('X')}`, mode: 0o644 }, { emitter: 'test' });
    expect(f.mode).toBe(0o600);
    expect(f.secrets).toEqual(['X']);
    expect(f.dest).toBe('/etc/x.conf');
    expect(f.path).toBe('n1/files/etc/x.conf');
  });
  it('refuses bad paths as a compiler bug', () => {
    expect(() => makeFile('n', { path: '/etc/x', content: '' }, { emitter: 'test' })).toThrow(CompilerBug);
    expect(() => makeFile('n', { path: 'files/../x', content: '' }, { emitter: 'test' })).toThrow(CompilerBug);
  });
});
