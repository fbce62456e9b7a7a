// The web emitter: nginx site (TLS modes, local backend first and peers as `backup`, websocket
// upgrade), one hardened unit and one EnvironmentFile per web service, only on web nodes.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AWKWARD, buildFile, buildText, compileText, EXAMPLES } from '../helpers.js';
import { dqEscape } from '../../src/compiler/quote.js';

const MAIN = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
const withWeb = (web: string) => MAIN.replace(/^web:\n(?: .*\n)+/m, `web:\n${web}\n`);
const site = (files: Map<string, { content: string }>, node: string) => files.get(`${node}/files/etc/nginx/sites-available/mhc.conf`)!.content;
/** The body of `upstream NAME { … }` as trimmed lines. */
const upstream = (conf: string, name: string) =>
  new RegExp(`upstream ${name} \\{\\n([^}]*)\\}`)
    .exec(conf)![1]!
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
/** The body of `location PATH { … }` in the last server block (the one that proxies). */
const location = (conf: string, path: string) => new RegExp(`location ${path.replace(/[/.]/g, '\\$&')} \\{\\n([^}]*)\\}`).exec(conf.slice(conf.lastIndexOf('\nserver {')))![1]!;

describe('web emitter', () => {
  const files = buildFile(join(EXAMPLES, 'my_multihead_cluster.yaml'));

  it('proxies to the local backend first and to the peers, ranked, as backup', () => {
    expect(upstream(site(files, 'server2'), 'mhc_job_api')).toEqual([
      'server 127.0.0.1:5001 max_fails=1 fail_timeout=10s;',
      'server 192.168.1.101:5001 backup max_fails=1 fail_timeout=10s;',
      'server 192.168.1.103:5001 backup max_fails=1 fail_timeout=10s;',
      'keepalive 16;',
    ]);
    expect(upstream(site(files, 'server1'), 'mhc_websocket')).toEqual([
      'server 127.0.0.1:5010 max_fails=1 fail_timeout=10s;',
      'server 192.168.1.102:5010 backup max_fails=1 fail_timeout=10s;',
      'server 192.168.1.103:5010 backup max_fails=1 fail_timeout=10s;',
    ]);
    const conf = site(files, 'server1');
    expect(conf).toMatch(/proxy_next_upstream error timeout http_502 http_503 http_504;/);
    // one upstream and one location per service
    const m = compileText(MAIN).model;
    for (const s of m.web!.services) {
      expect(conf).toContain(`upstream mhc_${s.name} {`);
      expect(location(conf, s.path)).toContain(`proxy_pass http://mhc_${s.name};`);
    }
  });

  it('upgrades websockets through the map, with HTTP/1.1 and long timeouts', () => {
    const conf = site(files, 'server1');
    expect(conf).toMatch(/map \$http_upgrade \$connection_upgrade \{\n\s+default upgrade;\n\s+'' +close;\n\}/);
    const ws = location(conf, '/ws/');
    expect(ws).toContain('proxy_http_version 1.1;');
    expect(ws).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(ws).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(ws).toContain('proxy_read_timeout 3600s;');
    const api = location(conf, '/api/jobs/');
    expect(api).toContain('proxy_set_header Connection "";');
    expect(api).toContain('proxy_set_header X-Forwarded-Proto $scheme;');
  });

  it('self-signed TLS: HTTP redirects except /health, certificate made on the node, no HSTS', () => {
    const conf = site(files, 'server1');
    expect(conf).toContain('listen 443 ssl http2;');
    expect(conf).toContain('ssl_certificate /etc/mhc/tls/mhc.crt;');
    expect(conf).toContain('ssl_certificate_key /etc/mhc/tls/mhc.key;');
    expect(conf).toContain('server_name cluster.example.com;');
    expect(conf).toMatch(/listen 80;[\s\S]*location = \/health \{[\s\S]*return 200 "ok\\n";[\s\S]*return 301 https:\/\/\$host\$request_uri;/);
    expect(conf).not.toContain('Strict-Transport-Security');
    for (const f of files.values()) expect(f.content).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
  });

  it('provided certificate: its paths and HSTS', () => {
    const f = buildText(withWeb('  domain: portal.example.org\n  ssl: { certificate: /etc/ssl/certs/portal.pem, certificate_key: /etc/ssl/private/portal.key }'));
    const conf = site(f, 'server3');
    expect(conf).toContain('ssl_certificate /etc/ssl/certs/portal.pem;');
    expect(conf).toContain('ssl_certificate_key /etc/ssl/private/portal.key;');
    expect(conf).toContain('server_name portal.example.org;');
    expect(conf).toContain('add_header Strict-Transport-Security "max-age=31536000" always;');
  });

  it('ssl off: one server on port 80, no TLS, no redirect', () => {
    const f = buildText(withWeb('  ssl: { enabled: false }'));
    const conf = site(f, 'server1');
    expect(conf).not.toMatch(/443|ssl_|return 301/);
    expect(conf.match(/^server \{/gm)).toHaveLength(1);
    expect(conf).toContain('listen 80;');
    expect(conf).toContain('location = /health {');
    expect(f.get('server1/files/etc/mhc/web/auth.env')!.content).toContain('PUBLIC_URL="http://cluster.example.com/api/auth/"');
  });

  it('enables the site with an include stub (no symlink in the bundle)', () => {
    expect(files.get('server1/files/etc/nginx/sites-enabled/mhc.conf')!.content).toMatch(/^# Generated by mhc[^\n]*\n(?:#[^\n]*\n)*include \/etc\/nginx\/sites-available\/mhc\.conf;\n$/);
  });

  it('only web nodes get the site and units; a single web node has no backup servers', () => {
    const five = buildFile(join(EXAMPLES, 'five_controllers.yaml'));
    const paths = [...five.keys()];
    expect(paths.filter((p) => p.includes('nginx') || p.includes('mhc-web-')).map((p) => p.split('/')[0])).not.toContain('ctl1');
    expect(upstream(site(five, 'web1'), 'mhc_grafana')).toEqual([
      'server 127.0.0.1:3000 max_fails=1 fail_timeout=10s;',
      'server 172.16.11.22:3000 backup max_fails=1 fail_timeout=10s;',
      'keepalive 16;',
    ]);
    const one = buildText(MAIN.replace(/web: true, keepalived/g, 'web: false, keepalived').replace('web: false, keepalived: true }\n    vip_owner', 'web: true, keepalived: true }\n    vip_owner'));
    expect(upstream(site(one, 'server1'), 'mhc_auth')).toEqual(['server 127.0.0.1:5000 max_fails=1 fail_timeout=10s;', 'keepalive 16;']);
    expect(one.has('server2/files/etc/nginx/sites-available/mhc.conf')).toBe(false);
    expect([...one.keys()].some((p) => p.startsWith('compute/') && (p.includes('nginx') || p.includes('mhc-web')))).toBe(false);
  });

  it('one hardened unit per web service, with its EnvironmentFile and a dedicated user', () => {
    const u = files.get('server1/files/etc/systemd/system/mhc-web-job_api.service')!.content;
    for (const line of [
      'After=network-online.target',
      'Wants=network-online.target',
      'User=mhc-web',
      'WorkingDirectory=/opt/mhc/web/job_api',
      'EnvironmentFile=/etc/mhc/web/job_api.env',
      'ExecStart=/opt/mhc/web/job_api/start.sh',
      'Restart=on-failure',
      'StartLimitBurst=5',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'StateDirectory=mhc-web/job_api',
    ])
      expect(u.split('\n')).toContain(line);
    const m = compileText(MAIN).model;
    for (const s of m.web!.services) expect(files.has(`server1/files/etc/systemd/system/mhc-web-${s.name}.service`)).toBe(true);
  });

  it('EnvironmentFiles hold placeholders only, mode 0600, values double-quoted for systemd', () => {
    const env = files.get('server1/files/etc/mhc/web/auth.env')!;
    expect(env.mode).toBe(0o600);
    expect(env.secrets).toEqual(['JWT_SECRET', 'REDIS_PASSWORD', 'SESSION_SECRET']);
    expect(env.content).toContain('JWT_SECRET="@@MHC_SECRET:JWT_SECRET:dq@@"');
    expect(env.content).toContain('PORT="5000"');
    expect(env.content).toContain('DB_HOST="192.168.1.100"');
    expect(env.content).toContain('REDIS_NODES="192.168.1.101:6379,192.168.1.102:6379,192.168.1.103:6379"');
    for (const line of env.content.split('\n')) if (line && !line.startsWith('#')) expect(line).toMatch(/^[A-Z_]+="(?:[^"\\]|\\.)*"$/);
    // sentinel mode names the sentinels and the master
    const two = buildFile(join(EXAMPLES, 'two_controllers.yaml')).get('head1/files/etc/mhc/web/auth.env')!.content;
    expect(two).toContain('REDIS_MODE="sentinel"');
    expect(two).toContain('REDIS_SENTINELS="10.20.0.11:26379,10.20.0.12:26379"');
    // Sentinel requires a password: the credential its requirepass holds (cluster mode has none)
    expect(two).toContain('REDIS_SENTINEL_PASSWORD="@@MHC_SECRET:REDIS_SENTINEL_PASSWORD:sentinel@@"');
    expect(env.content).not.toContain('REDIS_SENTINEL_PASSWORD');
  });

  it('embedding writes awkward secrets escaped for a double-quoted systemd value', () => {
    const f = buildFile(join(EXAMPLES, 'my_multihead_cluster.yaml'), {
      embed: { ...AWKWARD },
    });
    const env = f.get('server2/files/etc/mhc/web/websocket.env')!.content;
    expect(env).toContain(`JWT_SECRET="${dqEscape(AWKWARD.JWT_SECRET)}"`);
    expect(env).toContain(`SESSION_SECRET="${dqEscape(AWKWARD.SESSION_SECRET)}"`);
    expect(env).not.toContain('@@MHC_SECRET');
    // nothing else carries a secret
    expect(site(f, 'server2')).not.toContain(AWKWARD.JWT_SECRET);
  });

  it('starts every file with the generated-by comment', () => {
    for (const [p, f] of files) if (/nginx|mhc-web|mhc\/web/.test(p)) expect(f.content.startsWith('# Generated by mhc from the cluster YAML; do not edit by hand.\n'), p).toBe(true);
  });

  it('refuses two web services on the same URL path', () => {
    expect(() => compileText(MAIN.replace('web:\n', 'web_services:\n  services: [dashboard, { name: portal, port: 8080, path: / }]\nweb:\n'))).toThrow(/E317.*both use the URL path \//s);
  });
});
