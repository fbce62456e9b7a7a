// nginx judges the generated site: `nginx -t` with Debian's stock nginx.conf for every web node
// of every example (secrets embedded at the AWKWARD values), and a live run of the first web
// node of each example proving the redirect, /health, HTTP/2, the websocket upgrade and the
// failover to a peer marked `backup`. Everything runs in private namespaces (unshare): mount
// (the real /etc paths exist there, nothing on the host changes), and for the live run also
// net (the peer's 10.x/172.16.x/192.168.x address lives on that namespace's loopback only) and
// pid (every process dies with the namespace).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AWKWARD, buildText, compileText, EXAMPLES, withTarget } from '../helpers.js';
import { daemonRoot, ROOT_BUILD_MS, forTarget, requireTool, run, scratch } from './tools.js';
import { TARGET_OSES, type TargetOs } from '../../src/compiler/targets.js';
import type { BundleFile } from '../../src/compiler/bundle.js';
import type { Model } from '../../src/compiler/model.js';

const SITE = 'files/etc/nginx/sites-available/mhc.conf';
const EXAMPLE_FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const FALLBACK = `x'"\\&$ #/y`;

function embedFor(model: Model): Record<string, string> {
  return Object.fromEntries(model.secrets.map((s) => [s.name, (AWKWARD as Record<string, string>)[s.name] ?? FALLBACK]));
}

function buildWithSecrets(text: string): {
  model: Model;
  files: Map<string, BundleFile>;
} {
  const model = compileText(text).model;
  return { model, files: buildText(text, { embed: embedFor(model) }) };
}

/** Writes one node's bundle (files below `<node>/`) to dir. */
function writeBundle(files: Map<string, BundleFile>, node: string, dir: string): void {
  for (const [p, f] of files) {
    if (!p.startsWith(`${node}/`)) continue;
    const dest = join(dir, p.slice(node.length + 1));
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, f.content, { mode: f.mode });
  }
}

// Prepares a private /etc (a copy of the host's, Debian's default site disabled as the start
// script does, the bundle's files/etc on top, a throwaway certificate at the site's paths) and
// mounts it over /etc in this mount namespace, with scratch tmpfs for nginx's log/temp/pid dirs.
const PREPARE = `
prepare() {
  local s=$1 b=$2 cert=$3 key=$4
  shift 4
  mkdir -p "$s/etc"
  cp -a /etc/. "$s/etc/"
  rm -f "$s/etc/nginx/sites-enabled/"*
  cp -a "$b/files/etc/." "$s/etc/"
  while (($#)); do
    mkdir -p "$s$(dirname "$1")" "$s$(dirname "$2")"
    cp "$cert" "$s$1"
    cp "$key" "$s$2"
    chmod 0600 "$s$2"
    shift 2
  done
  mount --bind "$s/etc" /etc
  mount -t tmpfs tmpfs /var/log/nginx
  mount -t tmpfs tmpfs /var/lib/nginx
  mount -t tmpfs tmpfs /run
}
`;

const CHECK = `set -Eeuo pipefail
${PREPARE}
prepare "$@"
nginx -t
echo "UPSTREAMS $(nginx -T 2>/dev/null | grep -c '^upstream mhc_')"
`;

// The live run. Arguments after the prepare ones come through the environment (DOMAIN, TLS,
// API_PATH, API_PORT, WS_PATH, WS_PORT, PEER_IP, NODE, BACKEND).
const LIVE = `set -Eeuo pipefail
${PREPARE}
prepare "$@"
ip link set lo up
ip addr add "$PEER_IP/32" dev lo
"$NODE" "$BACKEND" 127.0.0.1 "$API_PORT" local & api_local=$!
"$NODE" "$BACKEND" "$PEER_IP" "$API_PORT" peer &
"$NODE" "$BACKEND" 127.0.0.1 "$WS_PORT" local &
# nginx only once the backends listen: a refused connection marks a server down for fail_timeout
for _ in $(seq 100); do
  curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$API_PORT/" && curl -s --max-time 1 -o /dev/null "http://$PEER_IP:$API_PORT/" &&
    curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$WS_PORT/" && break
  sleep 0.1
done
nginx
scheme=https; port=443
[[ $TLS == 1 ]] || { scheme=http; port=80; }
c=(curl -sk --max-time 5 --resolve "$DOMAIN:443:127.0.0.1" --resolve "$DOMAIN:80:127.0.0.1")
base="$scheme://$DOMAIN"
for _ in $(seq 100); do
  "\${c[@]}" -o /dev/null "$base$API_PATH" && [[ $("\${c[@]}" "$base$API_PATH") == local* ]] && break
  sleep 0.1
done
echo "HEALTH_HTTP $("\${c[@]}" -o /dev/null -w '%{http_code}' "http://$DOMAIN/health")"
echo "HEALTH $("\${c[@]}" -w '|%{http_code}' "$base/health" | tr -d '\\n')"
echo "REDIRECT $("\${c[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "http://$DOMAIN$API_PATH""x?a=1")"
echo "HTTP_VERSION $("\${c[@]}" -o /dev/null -w '%{http_version}' "$base$API_PATH")"
echo "API $("\${c[@]}" "$base$API_PATH""x")"
echo "WS $("\${c[@]}" --http1.1 -i -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$base$WS_PATH" | tr -d '\\r' | grep -iE '^(HTTP/|x-backend|x-upgrade)' | tr '\\n' ' ' || true)"
kill "$api_local"; wait "$api_local" 2>/dev/null || true
echo "FAILOVER $("\${c[@]}" "$base$API_PATH""y")"
echo "FAILOVER_POST $("\${c[@]}" -X POST --data a=1 "$base$API_PATH""z")"
`;

const BACKEND = `const http = require('node:http');
const [host, port, name] = process.argv.slice(2);
const s = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(\`\${name} \${req.method} \${req.url} \${req.headers['x-forwarded-proto']}\`);
});
s.on('upgrade', (req, sock) => {
  sock.end(\`HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nX-Backend: \${name}\\r\\nX-Upgrade: \${req.headers.upgrade}\\r\\n\\r\\n\`);
});
s.listen(Number(port), host);
`;

let dir = '';
let cert = '';
let key = '';
// the other targets' daemons: their cached root, built (minutes, once, under a lock) when missing
beforeAll(() => void TARGET_OSES.forEach((os) => daemonRoot(os)), ROOT_BUILD_MS);

beforeAll(() => {
  for (const t of ['nginx', 'openssl', 'unshare', 'mount', 'ip', 'curl']) requireTool(t);
  dir = scratch('nginx');
  cert = join(dir, 'test.crt');
  key = join(dir, 'test.key');
  const r = run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mhc-test', '-keyout', key, '-out', cert]);
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(join(dir, 'check.sh'), CHECK);
  writeFileSync(join(dir, 'live.sh'), LIVE);
  writeFileSync(join(dir, 'backend.cjs'), BACKEND);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** ssl_certificate / ssl_certificate_key paths of a site, as pairs; each must lie below /etc. */
function certArgs(site: string): string[] {
  const c = /^\s*ssl_certificate (\S+);$/m.exec(site)?.[1];
  const k = /^\s*ssl_certificate_key (\S+);$/m.exec(site)?.[1];
  if (!c || !k) return [];
  for (const p of [c, k]) if (!p.startsWith('/etc/')) throw new Error(`${p}: the harness only provides paths below /etc`);
  return [c, k];
}

let seq = 0;
function prepareArgs(files: Map<string, BundleFile>, node: string): string[] {
  const b = join(dir, `b${++seq}`);
  writeBundle(files, node, b);
  return [join(dir, `s${seq}`), b, cert, key, ...certArgs(files.get(`${node}/${SITE}`)!.content)];
}

function nginxT(files: Map<string, BundleFile>, node: string, services: number, os: TargetOs) {
  const r = run('unshare', ['--mount', '--propagation', 'private', ...forTarget(os, ['bash', join(dir, 'check.sh'), ...prepareArgs(files, node)], [dir])], { timeoutMs: 60000 });
  const out = r.stdout + r.stderr;
  expect(r.status, out).toBe(0);
  expect(out).toMatch(/syntax is ok/);
  expect(out).toMatch(/test is successful/);
  expect(out, 'nginx -t printed a warning').not.toMatch(/\[(warn|emerg|alert|crit)\]/);
  expect(out).toContain(`UPSTREAMS ${services}`);
}

describe('nginx -t accepts the generated site', () => {
  const cases: { name: string; text: string }[] = EXAMPLE_FILES.map((f) => ({
    name: f,
    text: readFileSync(join(EXAMPLES, f), 'utf8'),
  }));
  const main = readFileSync(join(EXAMPLES, 'my_multihead_cluster.yaml'), 'utf8');
  const webBlock = /^web:\n(?: .*\n)+/m;
  cases.push({
    name: 'ssl off (variant of my_multihead_cluster)',
    text: main.replace(webBlock, 'web:\n  ssl: { enabled: false }\n'),
  });
  cases.push({
    name: 'provided certificate (variant)',
    text: main.replace(webBlock, 'web:\n  domain: portal.example.org\n  ssl: { certificate: /etc/ssl/certs/portal.pem, certificate_key: /etc/ssl/private/portal.key }\n'),
  });
  const judged = Object.fromEntries(TARGET_OSES.map((os) => [os, 0])) as Record<TargetOs, number>;
  // each case for every target, judged by that release's nginx (the example names none: debian12)
  for (const c of cases)
    for (const os of TARGET_OSES) {
      it(`${c.name} [${os}]`, () => {
        const { model, files } = buildWithSecrets(withTarget(c.text, os));
        const nodes = model.controllers.filter((n) => files.has(`${n.hostname}/${SITE}`)).map((n) => n.hostname);
        expect(nodes.length).toBe(model.web?.members.length ?? 0);
        for (const n of nodes) {
          nginxT(files, n, model.web!.services.length, os);
          judged[os]++;
        }
      });
    }
  afterAll(() => {
    // every web node of every example (+ variants) went through nginx -t
    for (const os of TARGET_OSES) expect(judged[os], os).toBeGreaterThanOrEqual(9);
    console.log(`nginx -t judged sites: ${JSON.stringify(judged)}`);
  });
});

describe('nginx serves the generated site (live, private namespaces)', () => {
  for (const f of EXAMPLE_FILES) {
    const text = readFileSync(join(EXAMPLES, f), 'utf8');
    const web = compileText(text).model.web;
    if (!web) continue;
    it(`${f}: redirect, /health, HTTP/2, websocket upgrade, failover to a backup peer`, () => {
      const { files } = buildWithSecrets(text);
      const node = web.members[0]!.hostname;
      const peer = web.members[1];
      const api = web.services.find((s) => s.kind === 'backend')!;
      const ws = web.services.find((s) => s.kind === 'websocket')!;
      expect(peer && api && ws, 'the example needs two web nodes, a backend and a websocket service').toBeTruthy();
      const tls = web.ssl.mode !== 'off';
      const env = {
        ...process.env,
        DOMAIN: web.domain,
        TLS: tls ? '1' : '0',
        API_PATH: api.path,
        API_PORT: String(api.port),
        WS_PATH: ws.path,
        WS_PORT: String(ws.port),
        PEER_IP: peer!.ip,
        NODE: process.execPath,
        BACKEND: join(dir, 'backend.cjs'),
      };
      const r = run(
        'timeout',
        ['-k', '5', '90', 'unshare', '--mount', '--net', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'bash', join(dir, 'live.sh'), ...prepareArgs(files, node)],
        { timeoutMs: 100000, env },
      );
      const out = r.stdout + r.stderr;
      expect(r.status, out).toBe(0);
      const got = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(r.stdout)?.[1];
      expect(got('HEALTH_HTTP'), out).toBe('200');
      expect(got('HEALTH')).toBe('ok|200');
      expect(got('REDIRECT')).toBe(`301 https://${web.domain}${api.path}x?a=1`);
      expect(got('HTTP_VERSION')).toBe('2');
      expect(got('API')).toBe(`local GET ${api.path}x https`);
      expect(got('WS')).toMatch(/^HTTP\/1\.1 101 .*x-backend: local x-upgrade: websocket/i);
      expect(got('FAILOVER')).toBe(`peer GET ${api.path}y https`);
      expect(got('FAILOVER_POST')).toBe(`peer POST ${api.path}z https`);
    });
  }
});
