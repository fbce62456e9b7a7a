import { describe, expect, it } from 'vitest';
import { fill, formatSecretsEnv, generate, placeholder, refusal, resolve, secretsIn } from '../../src/compiler/secrets.js';
import { SECRET_SLOTS } from '../../src/compiler/normalize.js';
import type { SecretSpec } from '../../src/compiler/model.js';
import { AWKWARD } from '../helpers.js';
import { compile } from '../../src/compiler/compile.js';
import { allTargets, build } from '../../src/compiler/build.js';

const spec = (slot: keyof typeof SECRET_SLOTS): SecretSpec => ({ ...SECRET_SLOTS[slot], fromYaml: false });

describe('secrets', () => {
  it('finds the placeholders a text refers to', () => {
    const t = `a=${placeholder('B')}\nc="${placeholder('A', 'dq')}" ${placeholder('B')}`;
    expect(secretsIn(t)).toEqual(['A', 'B']);
  });
  it('fills values literally: $&, $1 and backslashes are not replacement patterns', () => {
    const values = new Map([['X', '$& $1 $$ \\1 \' " & # /']]);
    expect(fill(`k=${placeholder('X')}`, values)).toBe('k=$& $1 $$ \\1 \' " & # /');
    expect(fill(`k="${placeholder('X', 'dq')}"`, values)).toBe(`k="$& $1 $$ \\\\1 ' \\" & # /"`);
    expect(fill(`k=${placeholder('MISSING')}`, values)).toBe(`k=${placeholder('MISSING')}`);
  });
  it('resolves from environment: first, then the process environment; lists the missing', () => {
    const r = resolve(['A', 'B', 'C'], new Map([['A', 'yaml']]), { A: 'env', B: 'env-b' });
    expect([...r.values]).toEqual([
      ['A', 'yaml'],
      ['B', 'env-b'],
    ]);
    expect(r.missing).toEqual(['C']);
  });
  it('resolves own values only: what every object inherits is no secret value', () => {
    const r = resolve(['constructor', 'toString', '__proto__', 'hasOwnProperty'], new Map(), { ...{ PATH: '/bin' } });
    expect(r.values.size).toBe(0);
    expect(r.missing).toEqual(['constructor', 'toString', '__proto__', 'hasOwnProperty']);
  });
  it('refuses what a consumer cannot take, naming it', () => {
    expect(refusal(spec('keepalived'), '123456789')).toMatch(/at most 8/);
    expect(refusal(spec('keepalived'), '12345678')).toBeUndefined();
    expect(refusal(spec('munge'), 'not base64!')).toMatch(/base64/);
    expect(refusal(spec('redis'), 'a\nb')).toMatch(/control character/);
    expect(refusal(spec('redis'), AWKWARD.REDIS_PASSWORD)).toBeUndefined();
  });
  it('generates strong values of the right shape from the given randomness', () => {
    let n = 0;
    const rnd = (k: number) => Uint8Array.from({ length: k }, () => n++ % 256);
    const pw = generate(spec('dbRoot'), rnd);
    expect(pw).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(generate(spec('keepalived'), rnd)).toHaveLength(8);
    expect(Buffer.from(generate(spec('munge'), rnd), 'base64')).toHaveLength(1024);
  });
  it('secrets.env holds one NAME=value line per secret', () => {
    const text = formatSecretsEnv(
      [spec('redis'), spec('jwt')],
      new Map([
        ['REDIS_PASSWORD', 'a b'],
        ['JWT_SECRET', 'x=y'],
      ]),
    );
    expect(text).toMatch(/^REDIS_PASSWORD=a b$/m);
    expect(text).toMatch(/^JWT_SECRET=x=y$/m);
  });
  it('secrets.env never gets a line break inside a value (an extra NAME=value line)', () => {
    expect(() => formatSecretsEnv([spec('redis')], new Map([['REDIS_PASSWORD', 'a\nDB_ROOT_PASSWORD=x']]))).toThrow(/line break/);
    expect(() => formatSecretsEnv([spec('redis')], new Map([['REDIS_PASSWORD', 'a\rb']]))).toThrow(/line break/);
    expect(refusal(spec('redis'), '')).toMatch(/empty/);
  });
  it('validate refuses exactly the environment: values --embed-secrets refuses (one rule: refusal)', () => {
    const yaml = (env: Record<string, string>) =>
      [
        'cluster: { name: demo }',
        `environment: ${JSON.stringify(env)}`,
        'network: { vip: 10.0.0.100, prefix: 24 }',
        'controllers:',
        '  - { hostname: s1, ip: 10.0.0.1 }',
        '  - { hostname: s2, ip: 10.0.0.2 }',
        '  - { hostname: s3, ip: 10.0.0.3 }',
        '',
      ].join('\n');
    const corpus = [
      '',
      'a\nb',
      'a\rb',
      'tab\there',
      '123456789',
      '12345678',
      'plain',
      'a "b" c',
      '"abc"',
      'ends\\',
      '$_x',
      '${_HASH}',
      'not base64!',
      Buffer.alloc(64, 1).toString('base64'),
      'x'.repeat(1001),
    ];
    const names = ['KEEPALIVED_AUTH_PASS', 'SLURMDBD_DB_PASSWORD', 'MUNGE_KEY', 'REDIS_PASSWORD', 'GALERA_SST_PASSWORD'] as const;
    let refused = 0;
    for (const name of names) {
      for (const v of corpus) {
        const atValidate = compile('t.yaml', Buffer.from(yaml({ [name]: v }))).diagnostics.some((d) => d.code === 'E318');
        const c = compile('t.yaml', Buffer.from(yaml({})));
        const r = build({ model: c.model!, literals: c.literals!, inputSha256: '', mhcVersion: '0', targets: allTargets(c.model!), embedFrom: { ...AWKWARD, [name]: v } });
        const atEmbed = !r.files;
        expect(atValidate, `${name}=${JSON.stringify(v)}`).toBe(atEmbed);
        if (atValidate) refused++;
      }
    }
    expect(refused).toBeGreaterThan(names.length * 2); // the corpus is hostile enough to mean something
  });
});
