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
hb.registerHelper('sh', (v: unknown) => shellQuote(String(v)));
hb.registerHelper('yq', (v: unknown) => yamlQuote(String(v)));
hb.registerHelper('dq', (v: unknown) => dq(String(v)));
hb.registerHelper('dqEscape', (v: unknown) => dqEscape(String(v)));
hb.registerHelper('pad', (v: unknown, width: number) => String(v).padEnd(width));
hb.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ',') : ''));
hb.registerHelper('secret', (ref: { name: string }, enc: unknown) => placeholder(ref.name, (typeof enc === 'string' ? enc : 'raw') as SecretEncoding));
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('octal', (m: number) => m.toString(8).padStart(4, '0'));

const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<name>.hbs with `context`. */
export function render(name: string, context: object): string {
  let t = cache.get(name);
  if (!t) {
    const spec = TEMPLATES[name];
    if (spec === undefined) throw new CompilerBug(`no template ${name}`);
    t = hb.template(spec as Parameters<typeof Handlebars.template>[0]);
    cache.set(name, t);
  }
  return t(context);
}
