// Templates: layout only. Precompiled by scripts/generate.mjs with strict (a missing value is an
// error, never an empty string) and noEscape (config files are not HTML); only the handlebars
// runtime is loaded here. Values reach templates through the helpers below, which call the one
// quoting module.
import runtime from 'handlebars/runtime.js';
import type Handlebars from 'handlebars';
import { TEMPLATES } from '../generated/templates.js';
import { dq, dqEscape, shellQuote, yamlQuote } from './quote.js';
import { placeholder, type SecretEncoding } from './secrets.js';
import { CompilerBug } from './bundle.js';

// runtime.d.ts declares nothing; the runtime has the same API as the full package minus the compiler
const hb = (runtime as unknown as typeof Handlebars).create();

/** What the runtime passes a helper last: its name and where the call is in the template. */
interface CallSite {
  readonly name?: string;
  readonly loc?: hbs.AST.SourceLocation;
}

/**
 * Strict mode throws on a missing {{name}} but hands a helper's missing argument over as
 * undefined ({{sh name}} rendered 'undefined'): the value helpers refuse it the same way, at
 * the helper call (line:column of its `{{`).
 */
function value(v: unknown, at: CallSite): unknown {
  if (v === undefined) throw new hb.Exception(`"${at.name ?? '?'}" was given a value that is not defined`, at.loc ? ({ loc: at.loc } as hbs.AST.Node) : undefined);
  return v;
}
hb.registerHelper('sh', (v: unknown, at: CallSite) => shellQuote(String(value(v, at))));
hb.registerHelper('yq', (v: unknown, at: CallSite) => yamlQuote(String(value(v, at))));
hb.registerHelper('dq', (v: unknown, at: CallSite) => dq(String(value(v, at))));
hb.registerHelper('dqEscape', (v: unknown, at: CallSite) => dqEscape(String(value(v, at))));
hb.registerHelper('pad', (v: unknown, width: number, at: CallSite) => String(value(v, at)).padEnd(width));
hb.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ',') : ''));
hb.registerHelper('secret', (ref: { name: string } | undefined, enc: unknown, at: CallSite) =>
  placeholder((value(ref, at) as { name: string }).name, (typeof enc === 'string' ? enc : 'raw') as SecretEncoding),
);
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('octal', (m: number, at: CallSite) => (value(m, at) as number).toString(8).padStart(4, '0'));

// A template whose file name starts with "_" is a partial: bash (or text) that more than one
// generated file carries, written once (templates/redis/_conf_password.sh.hbs is in
// lib/operations.sh and in the standalone check_all_services.sh), included as {{> redis/_conf_password.sh}}.
for (const [name, spec] of Object.entries(TEMPLATES)) {
  if (/(^|\/)_[^/]*$/.test(name)) hb.registerPartial(name, hb.template(spec as Parameters<typeof Handlebars.template>[0]));
}

const cache = new Map<string, Handlebars.TemplateDelegate>();

/**
 * Renders templates/<name>.hbs with `context`. A value the template needs and the context lacks
 * is a CompilerBug naming the place: `templates/<name>.hbs:LINE:COL: <handlebars' message>`
 * (1-based, as an editor counts; handlebars' own ` - LINE:COL` suffix counts columns from 0).
 */
export function render(name: string, context: object): string {
  let t = cache.get(name);
  if (!t) {
    const spec = TEMPLATES[name];
    if (spec === undefined) throw new CompilerBug(`no template ${name}`);
    t = hb.template(spec as Parameters<typeof Handlebars.template>[0]);
    cache.set(name, t);
  }
  try {
    return t(context);
  } catch (e) {
    if (!(e instanceof hb.Exception)) throw e;
    throw templateError(name, e);
  }
}

function templateError(name: string, e: Handlebars.Exception): CompilerBug {
  const suffix = / - (\d+):(\d+)$/.exec(e.message);
  const line = Number(e.lineNumber ?? suffix?.[1]);
  const col = Number(e.column ?? suffix?.[2]);
  const message = suffix ? e.message.slice(0, suffix.index) : e.message;
  const where = Number.isInteger(line) && Number.isInteger(col) ? `:${line}:${col + 1}` : '';
  return new CompilerBug(`templates/${name}.hbs${where}: ${message}`, { cause: e });
}
