// One side of a review: every file of a built tree (out/<cluster>/), grouped per bundle, with the
// metadata its manifest records. Pure: tree-source.ts reads the disk or git and calls this.
import { compress } from '../compiler/hostlist.js';
import { PLACEHOLDER } from '../compiler/secrets.js';
import { DEPLOY_DIR } from '../compiler/model.js';

/** A tarball beside a tree (out/<cluster>-<bundle>.tar.gz), as read from disk. */
export interface Tarball {
  /** its file name, e.g. hpc-prod-server1.tar.gz */
  readonly name: string;
  /** the mode on disk */
  readonly mode: number;
  /** its bytes, or why they could not be read */
  readonly bytes: Buffer | { readonly error: string };
}

/** A file as read from a tree or produced by an in-memory build; paths relative to out/<cluster>/. */
export interface RawFile {
  readonly path: string;
  readonly content: string;
  /** the mode on disk (or in the build); undefined when unknown */
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
  readonly secrets?: readonly string[];
}

export interface SideFile {
  readonly content: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
  /** secrets the manifest says the file holds (placeholders, or values when embedded) */
  readonly secrets: readonly string[];
}

export interface Bundle {
  readonly name: string;
  readonly role: 'controller' | 'compute';
  /** hostnames the bundle is for: the controller, or every compute node */
  readonly nodes: readonly string[];
  /** bundle-relative path → file; manifest.json is not among them (see `manifest`) */
  readonly files: ReadonlyMap<string, SideFile>;
  /** manifest.json parsed, when present and valid JSON */
  readonly manifest?: Manifest;
}

export interface ManifestEntry {
  readonly path: string;
  readonly dest?: string;
  readonly mode?: string;
  readonly owner?: string;
  readonly group?: string;
  readonly sha256?: string;
  readonly secrets?: readonly string[];
  /** provenance: the service whose file it is, and what a change to it needs (absent in trees built before descriptors) */
  readonly service?: string;
  readonly change?: string;
  readonly change_rule?: string;
}

export interface Manifest {
  readonly mhc_version?: string;
  readonly input_sha256?: string;
  readonly cluster?: string;
  readonly bundle?: string;
  readonly role?: string;
  readonly hostname?: string;
  readonly nodes?: string;
  /** the OS release the files are for (absent in trees built before targets: debian12) */
  readonly target?: string;
  readonly secrets_embedded?: boolean;
  readonly secrets?: readonly string[];
  readonly files?: readonly ManifestEntry[];
}

export interface Side {
  /** as given on the command line (a file, a directory or git:REF:PATH) */
  readonly label: string;
  readonly kind: 'yaml' | 'tree';
  readonly cluster?: string;
  readonly mhcVersion?: string;
  readonly secretsEmbedded: boolean;
  readonly bundles: ReadonlyMap<string, Bundle>;
  /** files of the tree that belong to no bundle: SHA256SUMS, cluster.json and deploy/… */
  readonly top: ReadonlyMap<string, RawFile>;
  /** every file of the tree, as read (for the audit's checksum rules) */
  readonly raw: readonly RawFile[];
  /** cluster.json parsed, when present */
  readonly clusterJson?: unknown;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

export function parseManifest(text: string): Manifest | undefined {
  const j = parseJson(text);
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const o = j as Record<string, unknown>;
  const files = Array.isArray(o.files)
    ? o.files
        .filter((f): f is Record<string, unknown> => !!f && typeof f === 'object' && typeof (f as Record<string, unknown>).path === 'string')
        .map((f) => {
          const e: ManifestEntry = {
            path: f.path as string,
            ...(str(f.dest) ? { dest: str(f.dest) } : {}),
            ...(str(f.mode) ? { mode: str(f.mode) } : {}),
            ...(str(f.owner) ? { owner: str(f.owner) } : {}),
            ...(str(f.group) ? { group: str(f.group) } : {}),
            ...(str(f.sha256) ? { sha256: str(f.sha256) } : {}),
            ...(strs(f.secrets) ? { secrets: strs(f.secrets) } : {}),
            ...(str(f.service) ? { service: str(f.service) } : {}),
            ...(str(f.change) ? { change: str(f.change) } : {}),
            ...(str(f.change_rule) ? { change_rule: str(f.change_rule) } : {}),
          };
          return e;
        })
    : undefined;
  const m: Manifest = {
    ...(str(o.mhc_version) ? { mhc_version: str(o.mhc_version) } : {}),
    ...(str(o.input_sha256) ? { input_sha256: str(o.input_sha256) } : {}),
    ...(str(o.cluster) ? { cluster: str(o.cluster) } : {}),
    ...(str(o.bundle) ? { bundle: str(o.bundle) } : {}),
    ...(str(o.role) ? { role: str(o.role) } : {}),
    ...(str(o.hostname) ? { hostname: str(o.hostname) } : {}),
    ...(str(o.nodes) ? { nodes: str(o.nodes) } : {}),
    ...(str(o.target) ? { target: str(o.target) } : {}),
    ...(typeof o.secrets_embedded === 'boolean' ? { secrets_embedded: o.secrets_embedded } : {}),
    ...(strs(o.secrets) ? { secrets: strs(o.secrets) } : {}),
    ...(files ? { files } : {}),
  };
  return m;
}

/** Secret names whose placeholders appear in a text. */
export function placeholdersIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) out.add(m[1]!);
  return out;
}

/**
 * Groups a tree's files per bundle. Owner, group and secrets come from the file itself when an
 * in-memory build supplies them, else from the bundle's manifest.json; the mode from the file.
 */
export function sideFromFiles(label: string, kind: 'yaml' | 'tree', files: readonly RawFile[], computeNodes?: readonly string[]): Side {
  const top = new Map<string, RawFile>();
  const perBundle = new Map<string, RawFile[]>();
  for (const f of files) {
    const i = f.path.indexOf('/');
    // deploy/ is cluster-level (the fan-out files), not a bundle (rules.ts reserves the name)
    if (i < 0 || f.path.slice(0, i) === DEPLOY_DIR) top.set(f.path, f);
    else {
      const b = f.path.slice(0, i);
      if (!perBundle.has(b)) perBundle.set(b, []);
      perBundle.get(b)!.push(f);
    }
  }
  const clusterJson = parseJson(top.get('cluster.json')?.content);
  const cj = clusterJson && typeof clusterJson === 'object' ? (clusterJson as Record<string, unknown>) : undefined;
  const cjCompute = Array.isArray(cj?.computeNodes) ? (cj!.computeNodes as unknown[]).map((n) => str((n as Record<string, unknown> | null)?.hostname)).filter((h): h is string => !!h) : undefined;
  const bundles = new Map<string, Bundle>();
  let version: string | undefined;
  let embedded = false;
  let cluster = str((cj?.cluster as Record<string, unknown> | undefined)?.name);
  for (const [name, fs] of [...perBundle].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const manFile = fs.find((f) => f.path === `${name}/manifest.json`);
    const manifest = manFile ? parseManifest(manFile.content) : undefined;
    const entries = new Map((manifest?.files ?? []).map((e) => [e.path, e]));
    const map = new Map<string, SideFile>();
    for (const f of fs) {
      const rel = f.path.slice(name.length + 1);
      if (rel === 'manifest.json') continue;
      const e = entries.get(rel);
      const mode = f.mode ?? (e?.mode ? parseInt(e.mode, 8) : rel.startsWith('bin/') ? 0o755 : 0o644);
      map.set(rel, {
        content: f.content,
        mode,
        owner: f.owner ?? e?.owner ?? 'root',
        group: f.group ?? e?.group ?? f.owner ?? e?.owner ?? 'root',
        secrets: [...new Set([...(f.secrets ?? []), ...(e?.secrets ?? [])])].sort(),
      });
    }
    const role = manifest?.role === 'compute' || (!manifest && name === 'compute') ? 'compute' : 'controller';
    const nodes = role === 'compute' ? [...(computeNodes ?? cjCompute ?? [])] : [manifest?.hostname ?? name];
    if (manifest?.mhc_version && !version) version = manifest.mhc_version;
    if (manifest?.secrets_embedded) embedded = true;
    if (!cluster && manifest?.cluster) cluster = manifest.cluster;
    bundles.set(name, {
      name,
      role,
      nodes,
      files: map,
      ...(manifest ? { manifest } : {}),
    });
  }
  return {
    label,
    kind,
    ...(cluster ? { cluster } : {}),
    ...(version ? { mhcVersion: version } : {}),
    secretsEmbedded: embedded,
    bundles,
    top,
    raw: files,
    ...(clusterJson !== undefined ? { clusterJson } : {}),
  };
}

/** "server1" or "compute (node[001-004],gpu[001-002])". */
export function bundleLabel(b: Pick<Bundle, 'name' | 'role' | 'nodes'>): string {
  return b.role === 'compute' && b.nodes.length ? `${b.name} (${compress([...b.nodes])})` : b.name;
}
