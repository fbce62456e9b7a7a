// Rules across fields (design.md, "Rules beyond the schema"). Each rule has its own code and
// points at the line the user must change. All rules run; every problem is collected.
import { diag, type Diagnostic } from './diagnostics.js';
import { didYouMean } from './did-you-mean.js';
import { canonicalAccounting, pathText, type Folded } from './fold.js';
import { count, expand, HostlistError, MAX_EXPANDED_HOSTNAMES } from './hostlist.js';
import type { Locator, Path } from './locate.js';
import { COMPUTE_BUNDLE, DEPLOY_DIR, type Model } from './model.js';
import { netmaskToPrefix, sameSubnet } from './net.js';
import { controllerServices, DEFAULT_WEB_SERVICES, type Normalized } from './normalize.js';
import { refusal } from './secrets.js';
import { SECRET_REF, within } from './formats.js';

const RESERVED = new Set([COMPUTE_BUNDLE, DEPLOY_DIR, 'localhost']);

/**
 * Runs before normalize, which expands every partition's hostlist: the names all of them expand
 * to, together, stay within MAX_EXPANDED_HOSTNAMES, counted without expanding anything (30
 * partitions of n[000001-999999] are 2 KB of YAML and would be 30 million strings). E323 points
 * at the list that crosses the limit; a malformed list is left to checkRules (E205).
 */
export function checkHostlistSizes(f: Folded, loc: Locator): Diagnostic[] {
  let total = 0n;
  for (const [i, p] of (f.input.slurm?.partitions ?? []).entries()) {
    if (typeof p.nodes !== 'string' || p.nodes === 'ALL') continue;
    let n: bigint;
    try {
      n = count(p.nodes);
    } catch {
      continue;
    }
    total += n;
    if (total > BigInt(MAX_EXPANDED_HOSTNAMES)) {
      const whole = i === 0 || total === n ? `expands to ${n} names` : `brings the node lists to ${total} names in all (this one: ${n})`;
      return [
        diag(
          'E323',
          `partition "${p.name}": the hostlist ${whole}; mhc expands at most ${MAX_EXPANDED_HOSTNAMES.toLocaleString('en-US')} in one file`,
          loc(['slurm', 'partitions', i, 'nodes'], { at: 'value' }),
          'name only compute nodes that exist (a list longer than compute_nodes names nodes that do not), or write ALL',
        ),
      ];
    }
  }
  return [];
}

/** deploy.gateways name nodes of the cluster; with gateways, deploy.admin_host (topology.conf's root) is given and is not a node. */
function checkDeploy(f: Folded, known: ReadonlyMap<string, Path>, err: (code: 'E324', msg: string, path: Path, hint?: string) => void): void {
  const d = f.input.deploy;
  if (!d) return;
  (d.gateways ?? []).forEach((g, i) => {
    if (!known.has(g.toLowerCase()))
      err('E324', `deploy gateway "${g}" is not a node of this cluster`, ['deploy', 'gateways', i], 'name controllers or compute nodes (the controllers are the usual gateways)');
  });
  if (d.gateways?.length && !d.admin_host)
    err('E324', 'deploy.gateways needs deploy.admin_host: the host clush runs on is the root of topology.conf', ['deploy', 'gateways'], 'add admin_host: with the short hostname of the admin host');
  if (d.admin_host && known.has(d.admin_host.toLowerCase()))
    err('E324', `deploy.admin_host "${d.admin_host}" is a node of this cluster`, ['deploy', 'admin_host'], 'the admin host runs deploy.sh and reaches the nodes; name a host outside the cluster');
}

export function checkRules(f: Folded, n: Normalized, loc: Locator): Diagnostic[] {
  const { model } = n;
  const ds: Diagnostic[] = [];
  const err = (code: Parameters<typeof diag>[0], msg: string, path: Path, hint?: string, at: 'key' | 'value' = 'value') => ds.push(diag(code, msg, loc(path, { at }), hint));

  // --- nodes -------------------------------------------------------------------------
  if (f.controllers.length === 0) {
    err('E312', 'no controllers are defined; a multi-head cluster needs at least one (usually three)', f.controllersPath, 'add a controllers: list with hostname and ip for each controller', 'key');
  }
  const allNodes = [
    ...f.controllers.map((c) => ({ hostname: c.hostname, ip: c.ip, path: c.path })),
    ...f.compute.map((c) => ({ hostname: c.hostname, ip: c.ip, path: c.path })),
    ...(f.input.database?.galera?.arbitrator
      ? [
          {
            hostname: { value: f.input.database.galera.arbitrator.hostname, path: ['database', 'galera', 'arbitrator', 'hostname'] as Path },
            ip: { value: f.input.database.galera.arbitrator.ip, path: ['database', 'galera', 'arbitrator', 'ip'] as Path },
            path: ['database', 'galera', 'arbitrator'] as Path,
          },
        ]
      : []),
  ];
  const seenHost = new Map<string, Path>();
  const seenIp = new Map<string, Path>();
  for (const n of allNodes) {
    const h = n.hostname.value.toLowerCase();
    if (RESERVED.has(h))
      err(
        'E313',
        `"${n.hostname.value}" is reserved (${h === 'localhost' ? 'it names the loopback host' : h === DEPLOY_DIR ? 'the fan-out files (deploy.sh, ClusterShell, Ansible) are written to a directory of that name' : 'the shared compute bundle is written to a directory of that name'})`,
        n.hostname.path,
        'choose another hostname',
      );
    const prevH = seenHost.get(h);
    if (prevH) err('E301', `hostname "${n.hostname.value}" is used twice (first at ${pathText(prevH)})`, n.hostname.path, 'hostnames must be unique (compared without case)');
    else seenHost.set(h, n.hostname.path);
    if (n.ip) {
      const prevI = seenIp.get(n.ip.value);
      if (prevI) err('E302', `address ${n.ip.value} is used twice (first at ${pathText(prevI)})`, n.ip.path, 'every node needs its own address');
      else seenIp.set(n.ip.value, n.ip.path);
    }
  }
  checkDeploy(f, seenHost, err);
  for (const c of f.controllers) {
    if (!c.ip) err('E204', `controller "${c.hostname.value}" has no address`, c.path, 'add ip: (or ip_address:) with its IPv4 address');
  }

  // --- VIP and keepalived ------------------------------------------------------------
  const ka = f.controllers.filter((c) => controllerServices(c).includes('keepalived'));
  const owners = f.controllers.filter((c) => c.vipOwner?.value);
  owners
    .slice(1)
    .forEach((o) =>
      err(
        'E305',
        `more than one controller is vip_owner (${owners.map((x) => x.hostname.value).join(', ')})`,
        o.vipOwner!.path,
        'set vip_owner: true on exactly one controller, or on none to let the highest priority own the VIP',
      ),
    );
  if (f.netmask && netmaskToPrefix(f.netmask.value) === undefined) {
    err('E205', `${f.netmask.value} is not a valid netmask (the 1-bits must be contiguous, e.g. 255.255.255.0)`, f.netmask.path);
  }
  if (f.vip) {
    const vip = f.vip.value;
    const vipPath: Path = [...f.vip.path, 'address']; // falls back to network.vip for the string form
    for (const n of allNodes) {
      if (n.ip?.value === vip) err('E303', `the VIP ${vip} is also the address of ${n.hostname.value}`, vipPath, 'the VIP must be a free address that keepalived moves between controllers');
    }
    const prefixGiven = f.prefix?.value ?? (f.netmask ? netmaskToPrefix(f.netmask.value) : undefined);
    if (prefixGiven !== undefined) {
      const inside = ka.filter((c) => c.ip && sameSubnet(c.ip.value, vip, prefixGiven));
      if (ka.length && inside.length === 0) {
        err(
          'E304',
          `the VIP ${vip} is not in the subnet of any keepalived controller (/${prefixGiven})`,
          vipPath,
          "VRRP moves the VIP only within one L2 segment: pick an address in the controllers' subnet",
        );
      } else {
        for (const c of ka) {
          if (c.ip && !sameSubnet(c.ip.value, vip, prefixGiven)) {
            err('E315', `${c.hostname.value} (${c.ip.value}) is outside the VIP subnet ${model.network.vip?.subnet ?? ''}`, c.ip.path, "every keepalived controller must be on the VIP's subnet");
          }
        }
      }
    }
  } else if (ka.length) {
    err('E204', `keepalived runs on ${ka.length} controller(s) but network.vip is not set`, f.input.network ? ['network'] : [], "add network: { vip: <free address in the controllers' subnet> }");
  }
  const withPrio = ka.filter((c) => c.priority);
  if (withPrio.length && withPrio.length < ka.length) {
    for (const c of ka.filter((x) => !x.priority)) {
      err(
        'E314',
        `controller "${c.hostname.value}" runs keepalived without a priority while others set one`,
        c.path,
        'give every keepalived controller a priority (1–254), or none to let mhc derive them',
      );
    }
  }
  const seenPrio = new Map<number, string>();
  for (const c of withPrio) {
    const p = c.priority!.value;
    const prev = seenPrio.get(p);
    if (prev) err('E307', `priority ${p} is used by both ${prev} and ${c.hostname.value}`, c.priority!.path, 'keepalived priorities must be unique, or two nodes may both claim the VIP');
    else seenPrio.set(p, c.hostname.value);
  }
  const owner = owners[0];
  if (owner && ka.length) {
    if (!controllerServices(owner).includes('keepalived')) {
      err(
        'E319',
        `vip_owner ${owner.hostname.value} does not run keepalived, so it can never hold the VIP`,
        owner.vipOwner!.path,
        'enable services.keepalived on it, or make another controller the owner',
      );
    } else if (owner.priority) {
      const higher = withPrio.filter((c) => c !== owner && c.priority!.value >= owner.priority!.value);
      if (higher.length) {
        err(
          'E306',
          `vip_owner ${owner.hostname.value} has priority ${owner.priority.value}, but ${higher.map((c) => `${c.hostname.value} has ${c.priority!.value}`).join(', ')}`,
          owner.priority.path,
          'the VIP owner must have the highest priority, or VRRP hands the VIP to another node',
        );
      }
    }
  }

  // --- storage -----------------------------------------------------------------------
  const g = model.gluster;
  if (g && f.gluster) {
    const gp = f.gluster.path;
    if (f.gluster.value.replica_count !== undefined && f.gluster.value.replica_count > g.members.length) {
      err(
        'E308',
        `replica_count ${f.gluster.value.replica_count} needs that many gluster nodes, but only ${g.members.length} run glusterfs`,
        [...gp, 'replica_count'],
        `enable glusterfs on more controllers, or write replica_count: ${g.members.length}`,
      );
    }
    if (g.arbiter && g.replicaCount !== 3) {
      err('E205', `an arbiter needs replica_count 3 (2 data bricks + 1 arbiter), not ${g.replicaCount}`, [...gp, 'arbiter']);
    }
  }
  if (g && g.replicaCount === 2 && !g.arbiter) {
    ds.push(
      diag(
        'W303',
        'gluster replica 2 is prone to split-brain when the two nodes lose sight of each other',
        loc(f.gluster ? [...f.gluster.path, 'replica_count'] : f.controllersPath, { at: f.gluster ? 'value' : 'key' }),
        'use replica_count: 3 with arbiter: true (the arbiter stores only metadata)',
      ),
    );
  }

  // --- data directories ----------------------------------------------------------------
  // Each is created, given to its user with mode 0700, pruned or replaced on restore, so none may
  // hold another; the one nesting allowed is the Slurm state inside the gluster mount (that is how
  // it is shared). A default value is named as such; the diagnostic points at a value the user wrote.
  type DataDir = { readonly key: 'mount' | 'brick' | 'state' | 'backup'; readonly what: string; readonly value: string; readonly path?: Path; readonly field: string };
  const dirs: DataDir[] = [];
  const dataDir = (key: DataDir['key'], what: string, value: string, field: Path, written: boolean) => dirs.push({ key, what, value, field: pathText(field), ...(written ? { path: field } : {}) });
  if (g) {
    const gp = f.gluster?.path ?? ['storage', 'gluster'];
    dataDir('mount', 'the gluster mount', g.mountPoint, [...gp, 'mount_point'], f.gluster?.value.mount_point !== undefined);
    dataDir('brick', 'the gluster brick', g.brickPath, [...gp, 'brick_path'], f.gluster?.value.brick_path !== undefined);
  }
  if (model.slurm) dataDir('state', 'the Slurm StateSaveLocation', model.slurm.stateSaveLocation, ['slurm', 'state_save_location'], f.input.slurm?.state_save_location !== undefined);
  dataDir('backup', 'the backup directory', model.backup.dir, f.backupDir?.path ?? ['backup', 'backup_dir'], f.backupDir !== undefined);
  const overlapWhy = (a: DataDir, b: DataDir): string => {
    const keys = new Set([a.key, b.key]);
    if (keys.has('brick')) return 'a brick belongs to GlusterFS alone: a file written into it beside GlusterFS corrupts the volume';
    if (keys.has('state') && keys.has('mount')) return 'the Slurm state must be a directory of its own inside the mount: it is given to SlurmUser with mode 0700 and replaced on restore';
    if (keys.has('state')) return 'a backup archives the whole StateSaveLocation and a restore replaces it: neither may hold the other';
    return 'the backup directory is per node (snapshots named by their time, old ones deleted, mode 0700) while the gluster mount is shared by every node';
  };
  dirs.forEach((a, i) =>
    dirs.slice(i + 1).forEach((b) => {
      // a inside b, b inside a, or equal; the state strictly inside the mount is how it is shared
      const aInB = within(a.value, b.value);
      const bInA = within(b.value, a.value);
      if (!aInB && !bInA) return;
      if (a.key === 'mount' && b.key === 'state' && bInA && !aInB) return;
      // point at the inner one when the user wrote it, else at the one the user wrote
      // (of two equal ones, the later: mount and brick come first, the state and backups follow them)
      const [inner, outer] = bInA ? [b, a] : [a, b];
      const at = inner.path ? inner : outer.path ? outer : inner;
      const other = at === inner ? outer : inner;
      const rel = a.value === b.value ? 'is also' : at === inner ? 'lies inside' : 'contains';
      const otherText = `${other.what} ${other.value} (${other.path ? other.field : `the default of ${other.field}`})`;
      err('E321', `${at.field} ${at.value} ${rel} ${otherText}: ${overlapWhy(a, b)}`, at.path ?? f.controllersPath, 'give each data directory a place of its own', at.path ? 'value' : 'key');
    }),
  );

  // --- galera ------------------------------------------------------------------------
  const gal = model.galera;
  if (gal && !gal.arbitrator) {
    const where = loc(f.input.database ? ['database'] : f.controllersPath, { at: 'key' });
    if (gal.members.length === 2) {
      ds.push(
        diag(
          'W301',
          'two Galera nodes cannot keep quorum: when one fails the other stops accepting writes',
          where,
          'add a third MariaDB node, or a garbd arbitrator (database.galera.arbitrator: {hostname, ip})',
        ),
      );
    } else if (gal.members.length >= 4 && gal.members.length % 2 === 0) {
      ds.push(diag('W302', `${gal.members.length} Galera nodes: an even count can split into two halves with no quorum`, where, 'use an odd number of MariaDB nodes, or add a garbd arbitrator'));
    }
  }

  // --- redis -------------------------------------------------------------------------
  const r = model.redis;
  if (f.input.redis?.mode === 'cluster' && (r?.members.length ?? 0) < 3) {
    err('E309', `redis mode: cluster needs at least 3 redis nodes, but ${r?.members.length ?? 0} run redis`, ['redis', 'mode'], 'use mode: sentinel (or auto), or enable redis on more controllers');
  }
  if (r?.mode === 'sentinel' && r.members.length === 2) {
    ds.push(
      diag(
        'W307',
        'two Redis Sentinels cannot elect a leader after one node fails (a majority of sentinels is needed)',
        loc(f.input.redis ? ['redis'] : f.controllersPath, { at: 'key' }),
        'run redis on a third controller',
      ),
    );
  }
  if (r?.mode === 'cluster' && r.members.length >= 3) {
    // every master's replicas live on other hosts, one per host (emitters/redis.ts clusterPairs)
    const rp: Path = ['redis', 'cluster', 'replicas'];
    if (r.replicas >= r.members.length) {
      err(
        'E205',
        `redis.cluster.replicas ${r.replicas} needs ${r.replicas + 1} redis nodes (each replica of a master on another host), but ${r.members.length} run redis`,
        rp,
        `write replicas: ${r.members.length - 1} or less`,
      );
    } else if (r.replicas === 0) {
      ds.push(diag('W309', 'a Redis Cluster without replicas loses the slots of any node that fails', loc(rp), 'write replicas: 1 (each master gets a replica on another node)'));
    }
    if (r.port + r.replicas + 10000 > 65535) {
      err('E205', `redis port ${r.port}: the cluster bus port of the last instance (${r.port + r.replicas} + 10000) is above 65535`, ['redis', 'port'], `use a port of at most ${55535 - r.replicas}`);
    }
  }
  if (r?.mode === 'sentinel' && r.sentinel.port === r.port) {
    err('E317', `redis and its Sentinel both use port ${r.port}`, ['redis', 'sentinel', 'port'], 'give redis.sentinel.port another value (default 26379)');
  }

  // --- slurm -------------------------------------------------------------------------
  const s = f.input.slurm;
  const computeNames = new Set(f.compute.map((c) => c.hostname.value));
  const seenPart = new Set<string>();
  let defaults = 0;
  (s?.partitions ?? []).forEach((p, i) => {
    const pp: Path = ['slurm', 'partitions', i];
    if (seenPart.has(p.name)) err('E317', `partition "${p.name}" is defined twice`, [...pp, 'name']);
    seenPart.add(p.name);
    if (p.default) defaults++;
    if (p.default && defaults > 1) err('E320', `more than one partition is marked default ("${p.name}" is the second)`, [...pp, 'default'], 'Slurm has one default partition');
    let names: string[] = [];
    if (typeof p.nodes === 'string' && p.nodes !== 'ALL') {
      try {
        names = expand(p.nodes);
      } catch (e) {
        err('E205', `bad node list: ${(e as HostlistError).message}`, [...pp, 'nodes'], 'write ALL, a list of hostnames, or a hostlist such as node[001-010]');
      }
    } else if (Array.isArray(p.nodes)) names = p.nodes;
    const unknown = names.filter((n) => !computeNames.has(n));
    if (unknown.length) {
      const first = unknown[0]!;
      const guess = didYouMean(first, [...computeNames]);
      const where: Path = Array.isArray(p.nodes) ? [...pp, 'nodes', p.nodes.indexOf(first)] : [...pp, 'nodes'];
      err(
        'E310',
        `partition "${p.name}" names ${unknown.length === 1 ? 'a compute node that does not exist' : `${unknown.length} compute nodes that do not exist`}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`,
        where,
        guess ? `did you mean "${guess}"?` : 'list hostnames from compute_nodes, or ALL',
      );
    }
  });
  if (s?.accounting_storage_type && canonicalAccounting(s.accounting_storage_type) === 'mysql') {
    ds.push(
      diag(
        'W305',
        'accounting_storage/mysql is not supported by slurmctld; mhc uses accounting_storage/slurmdbd, which stores into MariaDB',
        loc(['slurm', 'accounting_storage_type']),
        'write accounting_storage_type: slurmdbd',
      ),
    );
  }
  if (model.slurm?.accounting && !model.galera) {
    const t = s?.accounting_storage_type;
    err(
      'E316',
      'Slurm accounting needs a database, but no controller runs mariadb',
      t ? ['slurm', 'accounting_storage_type'] : f.controllersPath,
      'enable mariadb on the controllers, or set slurm.accounting_storage_type: none',
    );
  }
  if (model.slurm === undefined && (s?.partitions?.length || f.compute.length)) {
    err('E316', 'compute nodes or partitions are defined, but no controller runs slurm', f.compute.length ? f.computePath : ['slurm'], 'enable services.slurm on at least one controller');
  }

  // --- web ---------------------------------------------------------------------------
  const list = f.webServices?.value;
  if (list) {
    const known = DEFAULT_WEB_SERVICES.map((d) => d.name);
    const names = new Map<string, number>();
    const ports = new Map<number, string>();
    const paths = new Map<string, string>();
    list.forEach((it, i) => {
      const p: Path = [...f.webServices!.path, i];
      const name = typeof it === 'string' ? it : it.name;
      if (typeof it === 'string' && !known.includes(it)) {
        const guess = didYouMean(it, known);
        err('E205', `unknown web service "${it}": give it as {name, port, …} or use a built-in one`, p, guess ? `did you mean "${guess}"?` : `built-in services: ${known.join(', ')}`);
      }
      if (names.has(name)) err('E317', `web service "${name}" is listed twice`, p);
      names.set(name, i);
      const port = typeof it === 'string' ? DEFAULT_WEB_SERVICES.find((d) => d.name === it)?.port : it.port;
      if (port !== undefined) {
        if ([80, 443].includes(port)) err('E317', `web service "${name}" uses port ${port}, which nginx serves`, typeof it === 'string' ? p : [...p, 'port']);
        const other = ports.get(port);
        if (other) err('E317', `web services "${other}" and "${name}" both use port ${port}`, typeof it === 'string' ? p : [...p, 'port']);
        else ports.set(port, name);
      }
      // each enabled service is one nginx `location`: two with the same path fail `nginx -t`
      if (typeof it !== 'string' && it.enabled === false) return;
      const urlPath = (typeof it === 'string' ? undefined : it.path) ?? DEFAULT_WEB_SERVICES.find((d) => d.name === name)?.path ?? `/${name}/`;
      const otherPath = paths.get(urlPath);
      if (otherPath)
        err('E317', `web services "${otherPath}" and "${name}" both use the URL path ${urlPath}`, typeof it !== 'string' && it.path ? [...p, 'path'] : p, 'give each web service its own path');
      else paths.set(urlPath, name);
    });
  }
  if (f.input.web?.ssl && !!f.input.web.ssl.certificate !== !!f.input.web.ssl.certificate_key) {
    err('E204', 'ssl needs both certificate and certificate_key (or neither, for a self-signed certificate made on the node)', ['web', 'ssl']);
  }

  // --- secrets -----------------------------------------------------------------------
  for (const k of Object.keys(f.input.environment ?? {})) {
    ds.push(
      diag(
        'W304',
        `environment: holds the value of ${k} in the YAML; anyone who can read the file or its git history has it`,
        loc(['environment', k]),
        'keep secrets out of the YAML: reference them as ${NAME} and provide them through secrets.env (mhc secrets init)',
      ),
    );
  }
  const inline: [Path, string | undefined][] = [
    [f.dbRootPassword?.path ?? [], f.dbRootPassword?.value],
    [f.redisPassword?.path ?? [], f.redisPassword?.value],
    [['web', 'jwt_secret'], f.input.web?.jwt_secret],
    [['web', 'session_secret'], f.input.web?.session_secret],
    [['network', 'vip', 'auth_pass'], f.input.network?.vip?.auth_pass],
  ];
  for (const [p, v] of inline) {
    if (v !== undefined && !SECRET_REF.test(v)) {
      ds.push(
        diag(
          'W304',
          `${pathText(p)} holds a literal secret; anyone who can read the file or its git history has it`,
          loc(p),
          'write ${NAME} instead and provide the value through secrets.env (mhc secrets init)',
        ),
      );
    }
  }
  // a value written in the YAML is checked here, with its line, by the same rule --embed-secrets
  // applies to every value (secrets.ts refusal): validate, secrets init and build agree
  for (const spec of model.secrets) {
    const v = n.literals.get(spec.name);
    const why = v === undefined ? undefined : refusal(spec, v);
    if (why)
      err(
        'E318',
        `secret ${spec.name} cannot be used: ${why}`,
        n.literalAt.get(spec.name) ?? ['environment'],
        'a secret that cannot be written in the YAML can come from secrets.env (mhc secrets init)',
      );
  }
  return ds;
}
