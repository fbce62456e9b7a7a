// fold: the many accepted spellings (design.md, "Shapes that must be accepted") → one shape,
// each value remembering the path it came from so rules can point at the user's own line.
// Two spellings of one setting with different values are an error (E206).
import { diag, type Diagnostic } from './diagnostics.js';
import type { Locator, Path } from './locate.js';
import type { ComputeInput, ControllerInput, Input, WebServiceInput } from './schema.js';

/** A value and where it was written. */
export interface At<T> {
  readonly value: T;
  readonly path: Path;
}

export interface FoldedController {
  readonly path: Path;
  readonly hostname: At<string>;
  readonly ip?: At<string>;
  readonly services?: Partial<Record<string, boolean>>;
  readonly servicesPath: Path;
  readonly vipOwner?: At<boolean>;
  readonly priority?: At<number>;
  readonly interface?: string;
}

export interface FoldedCompute {
  readonly path: Path;
  readonly hostname: At<string>;
  readonly ip?: At<string>;
  readonly input: ComputeInput;
  readonly memory?: At<number | string>;
}

export interface Folded {
  readonly input: Input;
  readonly controllers: readonly FoldedController[];
  readonly controllersPath: Path;
  readonly compute: readonly FoldedCompute[];
  readonly computePath: Path;
  readonly vip?: At<string>;
  readonly netmask?: At<string>;
  readonly prefix?: At<number>;
  readonly interface?: string;
  readonly gluster?: { readonly path: Path; readonly value: NonNullable<NonNullable<Input['storage']>['gluster']> };
  readonly dbRootPassword?: At<string>;
  readonly dbHost?: At<string>;
  readonly redisPassword?: At<string>;
  readonly webServices?: At<readonly WebServiceInput[]>;
  readonly backupDir?: At<string>;
  readonly backupRetentionDays?: At<number>;
  readonly backupSchedule?: At<string>;
  readonly backupItems?: At<readonly string[]>;
}

type Cand<T> = readonly [T | undefined, Path];

/**
 * Picks the one given spelling; reports E206 when two are given with different values.
 * Identical values are accepted (harmless redundancy).
 */
function pick<T>(ds: Diagnostic[], loc: Locator, what: string, ...cands: Cand<T>[]): At<T> | undefined {
  const given = cands.filter((c) => c[0] !== undefined) as (readonly [T, Path])[];
  if (given.length === 0) return undefined;
  const first = given[0]!;
  for (const other of given.slice(1)) {
    if (JSON.stringify(other[0]) !== JSON.stringify(first[0])) {
      ds.push(diag('E206', `${what} is given twice, as ${pathText(first[1])} and ${pathText(other[1])}, with different values`, loc(other[1], { at: 'key' }), `keep only one of the two spellings`));
    }
  }
  return { value: first[0], path: first[1] };
}

export function pathText(p: Path): string {
  let s = '';
  for (const seg of p) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s;
}

function foldController(c: ControllerInput, path: Path, ds: Diagnostic[], loc: Locator): FoldedController {
  const ip = pick(ds, loc, `the address of ${c.hostname}`, [c.ip, [...path, 'ip']], [c.ip_address, [...path, 'ip_address']]);
  return {
    path,
    hostname: { value: c.hostname, path: [...path, 'hostname'] },
    ...(ip ? { ip } : {}),
    ...(c.services ? { services: c.services } : {}),
    servicesPath: [...path, 'services'],
    ...(c.vip_owner !== undefined ? { vipOwner: { value: c.vip_owner, path: [...path, 'vip_owner'] } } : {}),
    ...(c.priority !== undefined ? { priority: { value: c.priority, path: [...path, 'priority'] } } : {}),
    ...(c.interface ? { interface: c.interface } : {}),
  };
}

function foldCompute(c: ComputeInput, path: Path, ds: Diagnostic[], loc: Locator): FoldedCompute {
  const ip = pick(ds, loc, `the address of ${c.hostname}`, [c.ip, [...path, 'ip']], [c.ip_address, [...path, 'ip_address']]);
  const memory = pick<number | string>(ds, loc, `the memory of ${c.hostname}`, [c.memory, [...path, 'memory']], [c.real_memory, [...path, 'real_memory']]);
  return {
    path,
    hostname: { value: c.hostname, path: [...path, 'hostname'] },
    ...(ip ? { ip } : {}),
    input: c,
    ...(memory ? { memory } : {}),
  };
}

export function fold(input: Input, loc: Locator): { folded: Folded; diagnostics: Diagnostic[] } {
  const ds: Diagnostic[] = [];
  const ctrl = pick(ds, loc, 'the controller list', [input.controllers, ['controllers']], [input.nodes?.controllers, ['nodes', 'controllers']]);
  const comp = pick(ds, loc, 'the compute node list', [input.compute_nodes, ['compute_nodes']], [input.nodes?.compute_nodes, ['nodes', 'compute_nodes']]);
  const controllersPath = ctrl?.path ?? ['controllers'];
  const computePath = comp?.path ?? ['compute_nodes'];
  const controllers = (ctrl?.value ?? []).map((c, i) => foldController(c, [...controllersPath, i], ds, loc));
  const compute = (comp?.value ?? []).map((c, i) => foldCompute(c, [...computePath, i], ds, loc));

  const n = input.network;
  const vip = n?.vip;
  const vipPath: Path = ['network', 'vip'];
  const netmask = pick(ds, loc, 'the VIP netmask', [n?.netmask, ['network', 'netmask']], [vip?.netmask, [...vipPath, 'netmask']]);
  const prefix = pick(ds, loc, 'the VIP prefix length', [n?.prefix, ['network', 'prefix']], [vip?.prefix, [...vipPath, 'prefix']]);
  const iface = pick(ds, loc, 'the VIP interface', [n?.interface, ['network', 'interface']], [vip?.interface, [...vipPath, 'interface']]);

  const g = pick(ds, loc, 'the gluster settings', [input.storage?.gluster, ['storage', 'gluster']], [input.storage?.glusterfs, ['storage', 'glusterfs']]);
  const db = input.database;
  const dbRootPassword = pick(ds, loc, 'the MariaDB root password', [db?.password, ['database', 'password']], [db?.mariadb?.root_password, ['database', 'mariadb', 'root_password']]);
  const dbHost = pick(ds, loc, 'the database address', [db?.vip, ['database', 'vip']], [db?.mariadb?.host, ['database', 'mariadb', 'host']]);
  const redisPassword = pick(ds, loc, 'the Redis password', [input.redis?.password, ['redis', 'password']], [input.redis?.cluster?.password, ['redis', 'cluster', 'password']]);
  const webServices = pick<readonly WebServiceInput[]>(ds, loc, 'the web service list', [input.web?.services, ['web', 'services']], [input.web_services?.services, ['web_services', 'services']]);
  const b = input.backup;
  const sb = input.shared_storage?.backup;
  const sbRetention = typeof sb?.retention === 'object' ? sb.retention.days : sb?.retention;
  const backupDir = pick(ds, loc, 'the backup directory', [b?.backup_dir, ['backup', 'backup_dir']], [sb?.backup_dir, ['shared_storage', 'backup', 'backup_dir']]);
  const backupRetentionDays = pick(ds, loc, 'the backup retention', [b?.retention_days, ['backup', 'retention_days']], [sbRetention, ['shared_storage', 'backup', 'retention']]);
  const backupSchedule = pick(ds, loc, 'the backup schedule', [b?.schedule, ['backup', 'schedule']], [sb?.schedule, ['shared_storage', 'backup', 'schedule']]);
  const backupItems = pick<readonly string[]>(ds, loc, 'the backup items', [b?.items, ['backup', 'items']], [sb?.items, ['shared_storage', 'backup', 'items']]);

  const folded: Folded = {
    input,
    controllers,
    controllersPath,
    compute,
    computePath,
    ...(vip ? { vip: { value: vip.address, path: vipPath } } : {}),
    ...(netmask ? { netmask } : {}),
    ...(prefix ? { prefix } : {}),
    ...(iface ? { interface: iface.value } : {}),
    ...(g ? { gluster: { path: g.path, value: g.value } } : {}),
    ...(dbRootPassword ? { dbRootPassword } : {}),
    ...(dbHost ? { dbHost } : {}),
    ...(redisPassword ? { redisPassword } : {}),
    ...(webServices ? { webServices } : {}),
    ...(backupDir ? { backupDir } : {}),
    ...(backupRetentionDays ? { backupRetentionDays } : {}),
    ...(backupSchedule ? { backupSchedule } : {}),
    ...(backupItems ? { backupItems } : {}),
  };
  return { folded, diagnostics: ds };
}
