// fold: the many accepted spellings (design.md, "Shapes that must be accepted") → one shape,
// each value remembering the path it came from so rules can point at the user's own line.
// Two spellings of one setting with different values are an error (E206). SPELLINGS is the one
// list of them: fold reads through it, `mhc fmt --canonical` (canonical.ts) rewrites by it.
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

/** One setting the source documents write in two places: where mhc writes it, and the other place. */
export interface Spelling {
  readonly what: string;
  /** the canonical place (the main example's; `mhc fmt --canonical` moves the setting here) */
  readonly canonical: Path;
  readonly other: Path;
  /** the value at `other` as `canonical` holds it, when the two differ in form */
  readonly convert?: (v: unknown) => unknown;
  /** `mhc fmt --canonical` moves it only when this mapping is there (network.netmask goes into network.vip, never makes one) */
  readonly onlyWith?: Path;
}

const retentionDays = (v: unknown): unknown => (v && typeof v === 'object' && 'days' in v ? v.days : v);
const VIP: Path = ['network', 'vip'];

/** Settings of the whole file, by absolute path; in the order `mhc fmt --canonical` applies them (the node lists first). */
export const SPELLINGS = {
  controllers: { what: 'the controller list', canonical: ['controllers'], other: ['nodes', 'controllers'] },
  compute: { what: 'the compute node list', canonical: ['compute_nodes'], other: ['nodes', 'compute_nodes'] },
  netmask: { what: 'the VIP netmask', canonical: [...VIP, 'netmask'], other: ['network', 'netmask'], onlyWith: VIP },
  prefix: { what: 'the VIP prefix length', canonical: [...VIP, 'prefix'], other: ['network', 'prefix'], onlyWith: VIP },
  interface: { what: 'the VIP interface', canonical: [...VIP, 'interface'], other: ['network', 'interface'], onlyWith: VIP },
  gluster: { what: 'the gluster settings', canonical: ['storage', 'gluster'], other: ['storage', 'glusterfs'] },
  dbRootPassword: { what: 'the MariaDB root password', canonical: ['database', 'password'], other: ['database', 'mariadb', 'root_password'] },
  dbHost: { what: 'the database address', canonical: ['database', 'vip'], other: ['database', 'mariadb', 'host'] },
  redisPassword: { what: 'the Redis password', canonical: ['redis', 'password'], other: ['redis', 'cluster', 'password'] },
  webServices: { what: 'the web service list', canonical: ['web', 'services'], other: ['web_services', 'services'] },
  backupDir: { what: 'the backup directory', canonical: ['backup', 'backup_dir'], other: ['shared_storage', 'backup', 'backup_dir'] },
  backupRetentionDays: { what: 'the backup retention', canonical: ['backup', 'retention_days'], other: ['shared_storage', 'backup', 'retention'], convert: retentionDays },
  backupSchedule: { what: 'the backup schedule', canonical: ['backup', 'schedule'], other: ['shared_storage', 'backup', 'schedule'] },
  backupItems: { what: 'the backup items', canonical: ['backup', 'items'], other: ['shared_storage', 'backup', 'items'] },
} as const satisfies Record<string, Spelling>;

/** Settings of one node (a controller or a compute node), by path within the node. */
export const NODE_SPELLINGS = {
  ip: { what: 'the address', canonical: ['ip'], other: ['ip_address'] },
  memory: { what: 'the memory', canonical: ['memory'], other: ['real_memory'] },
} as const satisfies Record<string, Spelling>;

/** Values with two spellings, and the canonical one: normalize reads them through these, `mhc fmt --canonical` writes them. */
export const canonicalAccounting = (t: string): string => t.replace(/^accounting_storage\//, '');
export const canonicalBackupItem = (i: string): string => (i === 'databases' ? 'mariadb' : i);
export const canonicalMaxTime = (t: string | number): string | number => (t === 'UNLIMITED' ? 'INFINITE' : t);

/** Where those values are, `*` standing for every list entry. */
export const VALUE_SPELLINGS: readonly { readonly path: readonly (string | '*')[]; readonly canonical: (v: never) => unknown }[] = [
  { path: ['slurm', 'accounting_storage_type'], canonical: canonicalAccounting },
  { path: ['slurm', 'partitions', '*', 'max_time'], canonical: canonicalMaxTime },
  { path: ['backup', 'items', '*'], canonical: canonicalBackupItem },
];

/** The value at `path` in plain data (own properties only), or undefined. */
export function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** Picks the setting `s` from `data` (the input, or a node at `base`). */
function pickSpelling<T>(ds: Diagnostic[], loc: Locator, data: unknown, s: Spelling, base: Path = [], what = s.what): At<T> | undefined {
  const other = valueAt(data, s.other);
  const converted = other !== undefined && s.convert ? s.convert(other) : other;
  return pick<T>(ds, loc, what, [valueAt(data, s.canonical) as T | undefined, [...base, ...s.canonical]], [converted as T | undefined, [...base, ...s.other]]);
}

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
  const ip = pickSpelling<string>(ds, loc, c, NODE_SPELLINGS.ip, path, `the address of ${c.hostname}`);
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
  const ip = pickSpelling<string>(ds, loc, c, NODE_SPELLINGS.ip, path, `the address of ${c.hostname}`);
  const memory = pickSpelling<number | string>(ds, loc, c, NODE_SPELLINGS.memory, path, `the memory of ${c.hostname}`);
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
  const get = <T>(s: Spelling): At<T> | undefined => pickSpelling<T>(ds, loc, input, s);
  const ctrl = get<ControllerInput[]>(SPELLINGS.controllers);
  const comp = get<ComputeInput[]>(SPELLINGS.compute);
  const controllersPath = ctrl?.path ?? ['controllers'];
  const computePath = comp?.path ?? ['compute_nodes'];
  const controllers = (ctrl?.value ?? []).map((c, i) => foldController(c, [...controllersPath, i], ds, loc));
  const compute = (comp?.value ?? []).map((c, i) => foldCompute(c, [...computePath, i], ds, loc));

  const vip = input.network?.vip;
  const vipPath: Path = ['network', 'vip'];
  const netmask = get<string>(SPELLINGS.netmask);
  const prefix = get<number>(SPELLINGS.prefix);
  const iface = get<string>(SPELLINGS.interface);
  const g = get<NonNullable<NonNullable<Input['storage']>['gluster']>>(SPELLINGS.gluster);
  const dbRootPassword = get<string>(SPELLINGS.dbRootPassword);
  const dbHost = get<string>(SPELLINGS.dbHost);
  const redisPassword = get<string>(SPELLINGS.redisPassword);
  const webServices = get<readonly WebServiceInput[]>(SPELLINGS.webServices);
  const backupDir = get<string>(SPELLINGS.backupDir);
  const backupRetentionDays = get<number>(SPELLINGS.backupRetentionDays);
  const backupSchedule = get<string>(SPELLINGS.backupSchedule);
  const backupItems = get<readonly string[]>(SPELLINGS.backupItems);

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
