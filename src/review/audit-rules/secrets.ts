// Secrets: none written in the YAML, none embedded in a tree, every file holding one closed to
// group and others, every placeholder naming a secret the bundles know.
import { modeString } from '../../compiler/bundle.js';
import type { Path } from '../../compiler/locate.js';
import { SECRET_REF } from '../../compiler/formats.js';
import { PLACEHOLDER } from '../../compiler/secrets.js';
import type { AuditRule, Finding } from '../audit.js';
import { parseManifest, placeholdersIn, type Tarball } from '../side.js';
import { readTarGz } from '../tar-read.js';

/**
 * The secrets whose values a tarball of a bundle holds: for every file its manifest lists with
 * secrets, those the file holds as values — all of them when the bundle was built with
 * --embed-secrets, else those it has no placeholder for. `unknown` when the archive cannot be
 * read or has no readable manifest.json (it may then hold anything).
 */
export function tarballSecrets(t: Tarball): { names: string[]; embedded: boolean } | { unknown: string } {
  if (!Buffer.isBuffer(t.bytes)) return { unknown: t.bytes.error };
  let entries;
  try {
    entries = readTarGz(t.bytes);
  } catch (e) {
    return { unknown: (e as Error).message };
  }
  const byPath = new Map(entries.filter((e) => e.type === '0').map((e) => [e.path, e]));
  const manifests = [...byPath.keys()].filter((p) => /^[^/]+\/manifest\.json$/.test(p));
  if (!manifests.length) return { unknown: 'it holds no manifest.json' };
  const names = new Set<string>();
  let embedded = false;
  for (const mp of manifests) {
    const m = parseManifest(byPath.get(mp)!.data.toString('utf8'));
    if (!m) return { unknown: `${mp} is not valid JSON` };
    const bundle = mp.slice(0, -'/manifest.json'.length);
    if (m.secrets_embedded === true) embedded = true;
    for (const e of m.files ?? []) {
      if (!e.secrets?.length) continue;
      const f = byPath.get(`${bundle}/${e.path}`);
      if (!f) continue;
      const present = placeholdersIn(f.data.toString('utf8'));
      for (const s of e.secrets) if (m.secrets_embedded === true || !present.has(s)) names.add(s);
    }
  }
  return { names: [...names].sort(), embedded };
}

/** Anything shaped like a placeholder, valid or not (an unknown encoding, a name starting with a digit). */
const LOOSE = /@@MHC_SECRET:([A-Za-z0-9_]+)(?::([A-Za-z0-9_]+))?@@/g;

export const secrets: AuditRule = {
  name: 'secrets',
  codes: ['A401', 'A402', 'A403', 'A404'],
  check(ctx) {
    const out: Finding[] = [];
    // --- A401: literal secrets in the YAML -----------------------------------------------------
    const f = ctx.folded;
    if (f) {
      const why = 'the value is in the YAML and in its git history: everyone who can read the repository, a CI log or a fork has the password, and rotating it means rewriting history';
      for (const k of Object.keys(f.input.environment ?? {})) {
        out.push({
          ...ctx.finding(
            'A401',
            ctx.at(['environment', k]),
            `environment: holds the value of ${k}`,
            why,
            `remove it from environment:, write \${${k}} where it is used, and keep the value in secrets.env (mhc secrets init)`,
          ),
          sensitive: true,
        });
      }
      const inline: [Path, string | undefined][] = [
        [f.dbRootPassword?.path ?? ['database', 'password'], f.dbRootPassword?.value],
        [f.redisPassword?.path ?? ['redis', 'password'], f.redisPassword?.value],
        [['web', 'jwt_secret'], f.input.web?.jwt_secret],
        [['web', 'session_secret'], f.input.web?.session_secret],
        [['network', 'vip', 'auth_pass'], f.input.network?.vip?.auth_pass],
      ];
      for (const [p, v] of inline) {
        if (v !== undefined && !SECRET_REF.test(v)) {
          out.push({
            ...ctx.finding('A401', ctx.at(p), `${p.join('.')} holds a literal secret`, why, 'write ${NAME} instead and provide the value through secrets.env (mhc secrets init)'),
            sensitive: true,
          });
        }
      }
    }

    const side = ctx.side;
    if (!side) return out;
    const known = new Set((ctx.model?.secrets ?? []).map((s) => s.name));
    for (const b of side.bundles.values()) {
      const embeddedOnPurpose = b.manifest?.secrets_embedded === true;
      const entries = new Map((b.manifest?.files ?? []).map((e) => [e.path, e]));
      for (const s of b.manifest?.secrets ?? []) known.add(s);
      for (const [rel, file] of b.files) {
        const at = ctx.at(undefined, { node: b.name, path: rel });
        const present = placeholdersIn(file.content);
        // --- A402: values embedded ------------------------------------------------------------
        const listed = entries.get(rel)?.secrets ?? file.secrets;
        const embedded = listed.filter((s) => !present.has(s));
        if (embedded.length) {
          out.push(
            ctx.finding(
              'A402',
              at,
              `holds the value of ${embedded.join(', ')} (the manifest lists ${embedded.length === 1 ? 'it' : 'them'}; the file has no placeholder for ${embedded.length === 1 ? 'it' : 'them'})${embeddedOnPurpose ? ', built with --embed-secrets' : ', although the manifest says secrets are not embedded'}`,
              'a tree with values in it is secret material: tarballs uploaded as CI artifacts, rsync targets and backups of out/ all carry the passwords',
              embeddedOnPurpose
                ? 'build without --embed-secrets and let the node fill placeholders from /etc/mhc/secrets.env; if you must embed, keep the tree out of CI artifacts'
                : 'someone edited the file after the build: rebuild the tree and find out who wrote the value',
              embeddedOnPurpose ? 'warning' : 'error',
            ),
          );
        }
        // --- A403: modes of files holding a secret ------------------------------------------------
        if (listed.length || present.size) {
          const modes = new Set<number>([file.mode]);
          const mm = entries.get(rel)?.mode;
          if (mm) modes.add(parseInt(mm, 8));
          const open = [...modes].filter((x) => (x & 0o077) !== 0);
          if (open.length) {
            out.push(
              ctx.finding(
                'A403',
                at,
                `holds ${[...new Set([...listed, ...present])].sort().join(', ')} but is mode ${open.map(modeString).join('/')}`,
                "any local user (a job on a login node, a compromised web backend) can read the password and reach the database, Redis or the cluster's munge key",
                'mode 0600 (or 0400), owned by the daemon that reads it; rebuild with mhc, which does so',
              ),
            );
          }
        }
        // --- A404: placeholders ---------------------------------------------------------------------
        for (const m of file.content.matchAll(LOOSE)) {
          PLACEHOLDER.lastIndex = 0;
          const valid = new RegExp(`^${PLACEHOLDER.source}$`).test(m[0]);
          if (!valid) {
            out.push(
              ctx.finding(
                'A404',
                at,
                `malformed placeholder ${m[0]} (an unknown encoding or name)`,
                'the node fills only placeholders it understands: this one stays in the file literally and the daemon reads it as the password, or fails to parse the file',
                'rebuild the tree with this mhc; never write placeholders by hand',
              ),
            );
          } else if (known.size && !known.has(m[1]!)) {
            out.push(
              ctx.finding(
                'A404',
                at,
                `placeholder for ${m[1]}, which no secret of this cluster has`,
                'secrets.env has no value for it: start_multihead.sh stops with "missing secret" on this node, or the daemon starts with a placeholder as its password',
                'rebuild the tree; if the name comes from the YAML, check the ${NAME} spelling',
              ),
            );
          } else if (b.manifest && !listed.includes(m[1]!)) {
            out.push(
              ctx.finding(
                'A404',
                at,
                `placeholder for ${m[1]} that the manifest does not list for this file`,
                'the node fills the secrets the manifest lists: this placeholder would stay in the file literally',
                'rebuild the tree; the manifest and the files must come from one build',
              ),
            );
          }
        }
      }
    }
    // --- A403: tarballs beside the tree -------------------------------------------------------------
    for (const t of ctx.tarballs) {
      if ((t.mode & 0o077) === 0) continue;
      const held = tarballSecrets(t);
      if ('names' in held && !held.names.length) continue;
      out.push(
        ctx.finding(
          'A403',
          ctx.at(undefined, { path: `../${t.name}` }),
          'names' in held
            ? `holds the values of ${held.names.join(', ')} (${held.embedded ? 'built with --embed-secrets' : 'its manifest lists them and says none are embedded, but the files have no placeholder for them'}) but is mode ${modeString(t.mode)}`
            : `cannot be read (${held.unknown}), so it may hold secret values, and is mode ${modeString(t.mode)}`,
          'the tarball is what CI uploads and operators copy around: any local user, and anyone who gets the artifact with its mode, can read the passwords and the munge key in it',
          'chmod 0600 the tarball (mhc build writes tarballs holding secrets 0600), or build without --embed-secrets and let the nodes fill placeholders from /etc/mhc/secrets.env',
        ),
      );
    }
    return out;
  },
};
