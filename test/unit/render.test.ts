// A value a template needs and its context lacks is a CompilerBug that names the template and the
// place: templates/<name>.hbs:LINE:COL (1-based), then handlebars' message without its own suffix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompilerBug } from '../../src/compiler/bundle.js';
import { render } from '../../src/compiler/render.js';
import { TEMPLATES } from '../../src/generated/templates.js';
import { ROOT } from '../helpers.js';

/** The error render() throws, or a failure when it does not. */
function renderError(name: string, context: object): Error {
  try {
    render(name, context);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`templates/${name}.hbs rendered without an error`);
}

/** The template's text at `templates/<name>.hbs:line:col` (1-based). */
function at(message: string): { file: string; rest: string } {
  const m = /^(templates\/[\w/.-]+\.hbs):(\d+):(\d+): /.exec(message);
  if (!m) throw new Error(`no templates/x.hbs:L:C in ${JSON.stringify(message)}`);
  const lines = readFileSync(join(ROOT, m[1]!), 'utf8').split('\n');
  return { file: m[1]!, rest: lines[Number(m[2]) - 1]!.slice(Number(m[3]) - 1) };
}

const GARB = { clusterName: 'hpc', members: 'db1, db2', arbHostname: 'arb', arbIp: '10.0.0.9', nodes: '10.0.0.1,10.0.0.2' };

describe('template render errors', () => {
  it('renders a real template when nothing is missing', () => {
    expect(Object.hasOwn(TEMPLATES, 'mariadb/etc/mhc/garbd/garb.conf')).toBe(true);
    expect(render('mariadb/etc/mhc/garbd/garb.conf', GARB)).toContain('GALERA_NODES="10.0.0.1,10.0.0.2"');
  });

  it('a missing value: templates/<name>.hbs:L:C at the reference, then the message without " - L:C"', () => {
    const { arbIp: _, ...lacking } = GARB;
    const e = renderError('mariadb/etc/mhc/garbd/garb.conf', lacking);
    expect(e).toBeInstanceOf(CompilerBug);
    expect(e.message).toBe('templates/mariadb/etc/mhc/garbd/garb.conf.hbs:4:33: "arbIp" not defined in [object Object]');
    expect(at(e.message).rest.startsWith('arbIp}}')).toBe(true);
    // handlebars' own error is kept as the cause (its column counts from 0)
    expect((e.cause as Error).message).toBe('"arbIp" not defined in [object Object] - 4:32');
  });

  it('inside a block: the line and column of the reference in the loop body', () => {
    const e = renderError('hosts/etc/mhc/hosts', { entries: [{ ip: '10.0.0.1', names: 'a' }, { ip: '10.0.0.2' }] });
    expect(e).toBeInstanceOf(CompilerBug);
    expect(e.message).toBe('templates/hosts/etc/mhc/hosts.hbs:4:17: "names" not defined in [object Object]');
    expect(at(e.message).rest).toBe('names}}');
  });

  it("a helper's missing argument (strict mode lets it through as undefined) is refused at the helper call", () => {
    const e = renderError('hosts/etc/mhc/hosts', { entries: [{ names: 'a' }] });
    expect(e).toBeInstanceOf(CompilerBug);
    expect(e.message).toBe('templates/hosts/etc/mhc/hosts.hbs:4:1: "pad" was given a value that is not defined');
    expect(at(e.message).rest.startsWith('{{pad ip 15}}')).toBe(true);
  });

  it('an unknown template is a CompilerBug too', () => {
    expect(() => render('no/such', {})).toThrow(new CompilerBug('no template no/such'));
  });
});
