// Output forms of `mhc audit`: text (diagnostics-like, with the YAML line and a caret) and json.
import type { AuditReport, Finding, Location } from './audit.js';
import { jsonSafe, printable } from '../compiler/diagnostics.js';

const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;

/** Every text from a tree or a YAML (file and node names, paths, messages) goes through printable. */
export function locationText(l: Location): string {
  if (l.kind === 'yaml') return printable(`${l.file}:${l.line}:${l.col}`);
  return printable([l.node, l.path].filter(Boolean).join(':') || '(tree)');
}

export function counts(r: AuditReport): {
  errors: number;
  warnings: number;
  infos: number;
} {
  return {
    errors: r.findings.filter((f) => f.severity === 'error').length,
    warnings: r.findings.filter((f) => f.severity === 'warning').length,
    infos: r.findings.filter((f) => f.severity === 'info').length,
  };
}

function findingText(r: AuditReport, f: Finding): string {
  let s = `${locationText(f.location)}: ${f.severity}[${f.code}]: ${printable(f.message)}\n`;
  const l = f.location;
  if (l.kind === 'yaml' && r.source) {
    let text = printable(r.source.lineText(l.line));
    let chars = [...text];
    const start = Math.min(l.col - 1, chars.length);
    const end = l.endLine === l.line ? Math.max(l.endCol - 1, start + 1) : chars.length;
    let len = Math.max(1, Math.min(end, Math.max(chars.length, start + 1)) - start);
    if (f.sensitive) {
      // never quote a secret: the underlined value (and anything after it on the line) is masked
      text = `${chars.slice(0, start).join('')}********`;
      chars = [...text];
      len = 8;
    }
    const pad = ' '.repeat(String(l.line).length);
    s += ` ${l.line} | ${text}\n ${pad} | ${' '.repeat(start)}${'^'.repeat(len)}\n`;
  }
  s += `  why: ${printable(f.why)}\n  fix: ${printable(f.fix)}\n`;
  return s;
}

export function formatAuditText(r: AuditReport, o: { strict?: boolean } = {}): string {
  let s = `mhc audit ${printable(r.target)} (${r.kind === 'config' ? 'cluster YAML' : 'built tree'}, mhc ${r.mhcVersion})\n`;
  const shown = r.findings.filter((f) => f.code !== 'A601');
  if (shown.length) s += '\n';
  for (const f of shown) s += `${findingText(r, f)}\n`;
  if (r.network.length) {
    s += `${shown.length ? '' : '\n'}network (A601): the ports each node must open\n`;
    for (const n of r.network) {
      s += `  ${printable(n.node)}${n.address ? ` (${printable(n.address)})` : ''}\n`;
      if (!n.rules.length) s += '    nothing (no service listens for peers)\n';
      const w = Math.max(0, ...n.rules.map((x) => (x.proto === 'vrrp' ? 'proto 112' : x.ports).length));
      for (const x of n.rules) s += printable(`    ${x.proto.padEnd(4)} ${(x.proto === 'vrrp' ? 'proto 112' : x.ports).padEnd(w)}  ${x.service}; from ${x.from}`) + '\n';
    }
  }
  const c = counts(r);
  const failed = c.errors > 0 || (!!o.strict && c.warnings > 0);
  s += `\n${failed ? 'FAILED' : 'passed'}: ${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')}, ${plural(c.infos, 'note')}${o.strict ? ' (--strict: warnings fail)' : ''}\n`;
  return s;
}

export function formatAuditJson(r: AuditReport, o: { strict?: boolean } = {}): string {
  const c = counts(r);
  const j = {
    target: r.target,
    kind: r.kind,
    mhc_version: r.mhcVersion,
    passed: !(c.errors > 0 || (!!o.strict && c.warnings > 0)),
    strict: !!o.strict,
    ...c,
    findings: r.findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      title: f.title,
      location:
        f.location.kind === 'yaml'
          ? {
              file: f.location.file,
              line: f.location.line,
              col: f.location.col,
            }
          : { node: f.location.node ?? null, path: f.location.path ?? null },
      message: f.message,
      why: f.why,
      fix: f.fix,
    })),
    network: r.network,
  };
  return `${jsonSafe(JSON.stringify(j, null, 2))}\n`;
}
