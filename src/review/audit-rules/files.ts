// Files: modes and owners against mhc's rules, the tree against its own checksums, the mhc
// version that built it, and nothing in it that is not a regular file.
import { createHash } from 'node:crypto';
import { modeString } from '../../compiler/bundle.js';
import type { AuditContext, AuditRule, Finding } from '../audit.js';
import { bundleLabel, type SideFile } from '../side.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export interface FileRule {
  readonly test: (rel: string) => boolean;
  readonly what: string;
  /** exact mode, or the bits that must be clear */
  readonly mode?: number;
  readonly clear?: number;
  readonly owner?: (ctx: AuditContext) => string;
  readonly why: string;
}

/** The rules, most specific first; every file must also pass the general one (last). */
export const FILE_RULES: readonly FileRule[] = [
  {
    test: (p) => p === 'files/etc/slurm/slurmdbd.conf',
    what: 'slurmdbd.conf',
    mode: 0o600,
    owner: (ctx) => ctx.model?.slurm?.slurmUser ?? 'slurm',
    why: 'slurmdbd refuses to start unless slurmdbd.conf is owned by SlurmUser and not readable by others (it holds the database password)',
  },
  {
    test: (p) => p.startsWith('files/etc/munge/'),
    what: 'the munge key',
    clear: 0o077,
    owner: () => 'munge',
    why: 'munged refuses a key readable by group or others, and whoever reads it can forge credentials for any user on every node',
  },
  {
    test: (p) => p.startsWith('files/etc/keepalived/') || p.startsWith('files/usr/local/sbin/'),
    what: 'keepalived configuration and its scripts',
    clear: 0o022,
    owner: () => 'root',
    why: 'with enable_script_security keepalived refuses scripts a non-root user could change; a writable track or notify script runs as root on the next VRRP transition',
  },
  {
    test: (p) => p.startsWith('bin/') || p.startsWith('lib/') || p.startsWith('files/etc/systemd/'),
    what: 'mhc scripts and systemd units',
    clear: 0o022,
    owner: () => 'root',
    why: 'these run as root; a group- or world-writable one lets a local user run code as root',
  },
  {
    test: () => true,
    what: 'any file',
    clear: 0o7002,
    why: 'a world-writable file or a setuid/setgid bit in a bundle lets a local user change what runs, or run it with raised privileges',
  },
];

function checkMode(ctx: AuditContext, node: string, rel: string, f: { mode: number; owner: string }, out: Finding[]): void {
  const problems: string[] = [];
  const whys: string[] = [];
  for (const r of FILE_RULES) {
    if (!r.test(rel)) continue;
    const before = problems.length;
    if (r.mode !== undefined && f.mode !== r.mode) problems.push(`${r.what} must be mode ${modeString(r.mode)}, not ${modeString(f.mode)}`);
    if (r.clear !== undefined && (f.mode & r.clear) !== 0) problems.push(`${r.what} must not have mode bits ${modeString(f.mode & r.clear)} (it is ${modeString(f.mode)})`);
    const owner = r.owner?.(ctx);
    if (owner && f.owner !== owner) problems.push(`${r.what} must be owned by ${owner}, not ${f.owner}`);
    if (problems.length > before) whys.push(r.why);
  }
  if (problems.length)
    out.push(
      ctx.finding('A501', ctx.at(undefined, { node, path: rel }), problems.join('; '), whys.join('; '), 'rebuild the tree with mhc, which sets these; never chmod or chown files in out/ by hand'),
    );
}

/** SHA256SUMS lines: `<64 hex>  <path>` (sha256sum's text mode). */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

export const files: AuditRule = {
  name: 'files',
  codes: ['A004', 'A501', 'A502', 'A503', 'A504', 'A505'],
  check(ctx) {
    const out: Finding[] = [];
    const side = ctx.side;
    if (!side) return out;
    const tree = ctx.kind === 'tree';
    // --- A004: the bookkeeping files -------------------------------------------------------------
    if (tree) {
      if (!side.top.has('cluster.json') || ctx.model === undefined) {
        out.push(
          ctx.finding(
            'A004',
            ctx.at(undefined, { path: 'cluster.json' }),
            side.top.has('cluster.json') ? 'cluster.json is not valid JSON' : 'cluster.json is missing',
            'the rules about quorum, the VIP, Slurm and ports read the normalized model from cluster.json; without it they check nothing',
            'rebuild the tree with mhc build',
          ),
        );
      }
      for (const b of side.bundles.values()) {
        if (!b.manifest)
          out.push(
            ctx.finding(
              'A004',
              ctx.at(undefined, { node: b.name, path: 'manifest.json' }),
              `${b.name}/manifest.json is ${side.raw.some((r) => r.path === `${b.name}/manifest.json`) ? 'not valid JSON' : 'missing'}`,
              'the node installs files with the modes, owners and secrets the manifest lists; without it nothing on this node can be installed or checked',
              'rebuild the tree with mhc build',
            ),
          );
      }
    }
    // --- A501 / A502: modes and owners -------------------------------------------------------------
    for (const b of side.bundles.values()) {
      const entries = new Map((b.manifest?.files ?? []).map((e) => [e.path, e]));
      for (const [rel, f] of b.files) {
        const e = entries.get(rel);
        const installed = {
          mode: e?.mode ? parseInt(e.mode, 8) : f.mode,
          owner: e?.owner ?? f.owner,
        };
        checkMode(ctx, b.name, rel, installed, out);
        if (tree && e?.mode && parseInt(e.mode, 8) !== f.mode) {
          out.push(
            ctx.finding(
              'A502',
              ctx.at(undefined, { node: b.name, path: rel }),
              `mode on disk is ${modeString(f.mode)}, the manifest says ${e.mode}`,
              'the tree was changed after the build (or copied without keeping modes): a tarball or rsync of it carries the wrong mode, and a secret file may be readable on the way',
              'rebuild the tree, and copy it with modes kept (rsync -p, tar)',
            ),
          );
        }
      }
    }
    if (!tree) return out;
    // --- A503: checksums ------------------------------------------------------------------------
    const sumsFile = side.top.get('SHA256SUMS');
    const whyTamper = 'a file that does not match the checksums mhc wrote was changed after the build: what runs on the node is not what the reviewed YAML produced';
    const fixTamper = 'rebuild the tree from the reviewed YAML and compare (mhc diff); find out who changed the file';
    if (!sumsFile) out.push(ctx.finding('A503', ctx.at(undefined, { path: 'SHA256SUMS' }), 'SHA256SUMS is missing', whyTamper, fixTamper));
    else {
      const sums = parseSums(sumsFile.content);
      const actual = new Map(side.raw.filter((r) => r.path !== 'SHA256SUMS').map((r) => [r.path, r.content]));
      for (const [p, h] of sums) {
        const c = actual.get(p);
        const [node, ...rest] = p.includes('/') ? p.split('/') : [undefined, p];
        const at = ctx.at(undefined, {
          ...(node ? { node } : {}),
          path: rest.join('/'),
        });
        if (c === undefined) out.push(ctx.finding('A503', at, `listed in SHA256SUMS but missing from the tree`, whyTamper, fixTamper));
        else if (sha256(c) !== h) out.push(ctx.finding('A503', at, `content does not match its SHA256SUMS line`, whyTamper, fixTamper));
      }
      for (const p of actual.keys()) {
        if (sums.has(p)) continue;
        const [node, ...rest] = p.includes('/') ? p.split('/') : [undefined, p];
        out.push(
          ctx.finding(
            'A503',
            ctx.at(undefined, {
              ...(node ? { node } : {}),
              path: rest.join('/'),
            }),
            'not listed in SHA256SUMS (added after the build)',
            whyTamper,
            fixTamper,
          ),
        );
      }
    }
    for (const b of side.bundles.values()) {
      for (const e of b.manifest?.files ?? []) {
        const f: SideFile | undefined = b.files.get(e.path);
        if (f && e.sha256 && sha256(f.content) !== e.sha256) {
          out.push(ctx.finding('A503', ctx.at(undefined, { node: b.name, path: e.path }), 'content does not match the sha256 in manifest.json', whyTamper, fixTamper));
        }
      }
    }
    // --- A504: mhc version ------------------------------------------------------------------------
    const versions = new Map<string, string[]>();
    for (const b of side.bundles.values()) {
      const v = b.manifest?.mhc_version;
      if (v && v !== ctx.mhcVersion) {
        if (!versions.has(v)) versions.set(v, []);
        versions.get(v)!.push(bundleLabel(b));
      }
    }
    for (const [v, nodes] of versions) {
      out.push(
        ctx.finding(
          'A504',
          ctx.at(undefined, {
            node: nodes[0]!.split(' ')[0],
            path: 'manifest.json',
          }),
          `built by mhc ${v}; this is mhc ${ctx.mhcVersion} (${nodes.join(', ')})`,
          'rules, templates and fixes differ between versions: this audit may judge files it does not know, and a rebuild may change more than the YAML did',
          `rebuild with mhc ${ctx.mhcVersion}, or audit with mhc ${v}`,
        ),
      );
    }
    // --- A505: links and special files ---------------------------------------------------------------
    for (const p of ctx.irregular) {
      const [node, ...rest] = p.includes('/') ? p.split('/') : [undefined, p];
      out.push(
        ctx.finding(
          'A505',
          ctx.at(undefined, {
            ...(node ? { node } : {}),
            path: rest.join('/'),
          }),
          'a symbolic link or special file; mhc writes regular files only',
          'installing the bundle follows the link: a file outside the bundle (say /etc/shadow) may be copied or overwritten as root',
          'delete it and rebuild the tree',
        ),
      );
    }
    return out;
  },
};
