// Web: the nginx site (TLS, websocket upgrade, local backend first and the peers as `backup`),
// one systemd unit and one EnvironmentFile per web service, on every controller running web.
import { render } from '../compiler/render.js';
import { dq } from '../compiler/quote.js';
import { placeholder } from '../compiler/secrets.js';
import { runs, type Controller, type Model, type SecretRef } from '../compiler/model.js';
import { CompilerBug, type EmittedFile } from '../compiler/bundle.js';
import type { Emitter } from './emitter.js';
import { addresses, isUnitFile, service, UNIT_RULE, type Check, type PortRule } from './service.js';

type Web = NonNullable<Model['web']>;
type Service = Web['services'][number];

export const SITE = 'files/etc/nginx/sites-available/mhc.conf';
export const SITE_ENABLED = 'files/etc/nginx/sites-enabled/mhc.conf';
/** The system user every web service runs as (created by the start script's web phase). */
export const WEB_USER = 'mhc-web';
export const unitName = (s: Service): string => `mhc-web-${s.name}.service`;
export const envFile = (s: Service): string => `/etc/mhc/web/${s.name}.env`;
export const upstreamName = (s: Service): string => `mhc_${s.name}`;

/** Upstream servers: the local backend first, then every other web node (ranked) as `backup`. */
export function upstreamServers(web: Web, node: Controller, s: Service): string[] {
  const opts = 'max_fails=1 fail_timeout=10s';
  const peers = web.members.filter((m) => m.hostname !== node.hostname);
  return [`127.0.0.1:${s.port} ${opts}`, ...peers.map((m) => `${m.ip}:${s.port} backup ${opts}`)];
}

export function site(web: Web, node: Controller, target: Model['target']): string {
  const tls = web.ssl.mode !== 'off';
  return render('web/etc/nginx/sites-available/mhc.conf', {
    hostname: node.hostname,
    domain: web.domain,
    tls,
    // nginx 1.25.1 added the `http2 on;` directive and deprecated `listen … http2` (nginx 1.26's
    // nginx -t warns); 1.22 knows only the listen parameter. Source: nginx.org ngx_http_v2_module,
    // "http2" (appeared in 1.25.1), and CHANGES 1.25.1. targets.ts: nginxHttp2Directive.
    http2Directive: target.nginxHttp2Directive,
    certificate: web.ssl.mode === 'off' ? '' : web.ssl.certificate,
    certificateKey: web.ssl.mode === 'off' ? '' : web.ssl.certificateKey,
    // HSTS only with a real certificate: browsers refuse to click through a self-signed one under HSTS
    hsts: web.ssl.mode === 'provided',
    clientMaxBodySize: '1g',
    upstreams: web.services.map((s) => ({
      name: upstreamName(s),
      service: s.name,
      kind: s.kind,
      port: s.port,
      servers: upstreamServers(web, node, s),
      // idle keep-alive connections to the backends; upgraded websocket connections are not pooled
      keepalive: s.kind === 'websocket' ? 0 : 16,
    })),
    locations: [...web.services]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((s) => ({
        path: s.path,
        upstream: upstreamName(s),
        service: s.name,
        kind: s.kind,
        websocket: s.kind === 'websocket',
      })),
  });
}

const secretValue = (ref: SecretRef): string => `"${placeholder(ref.name, 'dq')}"`;

/** KEY=value lines of a service's EnvironmentFile (values double-quoted: systemd takes them literally but for \" and \\). */
export function envVars(model: Model, node: Controller, s: Service): { key: string; value: string }[] {
  const web = model.web!;
  const v: { key: string; value: string }[] = [];
  const add = (key: string, value: string | number) => v.push({ key, value: dq(String(value)) });
  add('MHC_SERVICE', s.name);
  add('MHC_NODE', node.hostname);
  add('NODE_ENV', 'production');
  // peers reach this backend as a `backup` upstream, so it listens on every address
  add('HOST', '0.0.0.0');
  add('PORT', s.port);
  add('BASE_PATH', s.path);
  add('HEALTH_PATH', s.healthPath);
  add('PUBLIC_URL', `${web.ssl.mode === 'off' ? 'http' : 'https'}://${web.domain}${s.path}`);
  v.push({ key: 'JWT_SECRET', value: secretValue(web.jwtSecret) });
  v.push({ key: 'SESSION_SECRET', value: secretValue(web.sessionSecret) });
  const g = model.galera;
  if (g) {
    add('DB_HOST', g.clientHost);
    add('DB_PORT', g.port);
  }
  const r = model.redis;
  if (r) {
    add('REDIS_MODE', r.mode);
    add('REDIS_NODES', r.members.map((m) => `${m.ip}:${r.port}`).join(','));
    if (r.mode === 'sentinel') {
      add('REDIS_SENTINELS', r.members.map((m) => `${m.ip}:${r.sentinel.port}`).join(','));
      add('REDIS_MASTER_NAME', r.sentinel.masterName);
      // Sentinel requires its own password (src/emitters/redis.ts): the derived credential it checks
      if (r.sentinel.password) v.push({ key: 'REDIS_SENTINEL_PASSWORD', value: `"${placeholder(r.sentinel.password.name, 'sentinel')}"` });
    }
    v.push({ key: 'REDIS_PASSWORD', value: secretValue(r.password) });
  }
  return v;
}

/** The site's plain-HTTP server answers /health itself (templates/web/etc/nginx/sites-available/mhc.conf.hbs), with or without TLS. */
export const NGINX_HEALTH_URL = 'http://127.0.0.1/health';

const here = (model: Model, node: Controller): Web | undefined => (model.web && runs(node, 'web') ? model.web : undefined);

function webPorts(w: Web): PortRule[] {
  const out: PortRule[] = [{ proto: 'tcp', ports: '80', service: 'nginx (HTTP)', from: 'users' }];
  if (w.ssl.mode !== 'off') out.push({ proto: 'tcp', ports: '443', service: 'nginx (HTTPS)', from: 'users' });
  const members = addresses(w.members);
  for (const s of w.services) out.push({ proto: 'tcp', ports: `${s.port}`, service: `web backend ${s.name} (nginx on the peers proxies to it as backup)`, from: members });
  return out;
}

function webChecks(w: Web): Check[] {
  return [
    { name: 'web:nginx', service: 'web', fn: 'check_http', args: [NGINX_HEALTH_URL, w.domain] },
    ...w.services.map((s): Check => ({ name: `web:${s.name}`, service: 'web', fn: 'check_http', args: [`http://127.0.0.1:${s.port}${s.healthPath}`] })),
  ];
}

export const webService = service({
  key: 'web',
  label: 'Web services',
  phase: 'web',
  day2: {
    disruption: {
      restart: "this node's web services restart; nginx here stays up and serves from the other nodes' meanwhile (proxy_next_upstream): the VIP stays where it is",
      reload: 'none: nginx reloads without dropping a connection',
    },
    gates: ['web: web_health_check.sh reports every service healthy'],
    // nginx, which the VIP's clients reach, stays up (a reload at most); its upstreams list the other nodes' backends
    keepsVip: true,
    controllerMembership: {
      rule: 'mhc: the web services are stateless; nginx on each node serves its own',
      join: 'the new node starts nginx and its web services; the others are not touched',
      leave: 'its web services stop with the rest of the node',
    },
  },
  here: (_model, node) => runs(node, 'web'),
  packages: (model) => (model.web ? ['nginx', 'openssl'] : []),
  units: (model, node) => [...(here(model, node)?.services ?? []).map(unitName), 'nginx.service'],
  reloadUnits: () => ['nginx.service'],
  // nginx(8) -t: the whole installed configuration (the site is included from nginx.conf)
  validate: [{ argv: ['nginx', '-t', '-q'] }],
  configDirs: ['/etc/nginx'],
  ports: (model, node) => {
    const w = here(model, node);
    return w ? webPorts(w) : [];
  },
  checks: (model, node) => {
    const w = here(model, node);
    return w ? webChecks(w) : [];
  },
  change(dest) {
    if (isUnitFile(dest)) return UNIT_RULE;
    if (dest.startsWith('/etc/nginx/')) return { action: 'reload', rule: 'nginx: `systemctl reload nginx` (SIGHUP) re-reads the configuration and certificates; old workers finish their requests' };
    if (dest.startsWith('/etc/mhc/web/')) return { action: 'restart', rule: "systemd.exec(5): a unit's EnvironmentFile is read when the service starts" };
    throw new CompilerBug(`web: no change rule for ${dest}`);
  },
});

export const web: Emitter = {
  name: 'web',
  service: webService,
  emit(model, target) {
    const w = model.web;
    if (!w || target.kind !== 'controller' || !runs(target.node, 'web')) return [];
    const node = target.node;
    const out: EmittedFile[] = [
      { path: SITE, content: site(w, node, model.target) },
      { path: SITE_ENABLED, content: render('web/etc/nginx/sites-enabled/mhc.conf', {}) },
    ];
    for (const s of w.services) {
      out.push({
        path: `files/etc/systemd/system/${unitName(s)}`,
        content: render('web/etc/systemd/system/mhc-web-NAME.service', {
          name: s.name,
          kind: s.kind,
          port: s.port,
          user: WEB_USER,
          workingDirectory: s.workingDirectory,
          environmentFile: envFile(s),
          execStart: s.execStart,
          stateDirectory: `mhc-web/${s.name}`,
        }),
      });
      out.push({
        path: `files${envFile(s)}`,
        content: render('web/etc/mhc/web/NAME.env', {
          name: s.name,
          vars: envVars(model, node, s),
        }),
        mode: 0o600,
      });
    }
    return out;
  },
};
