// The front half of the pipeline: bytes → load → validate → fold → normalize → rules.
// Pure: the caller reads the file. Never throws on any input: every problem of the input is a
// diagnostic. Only a bug in mhc throws (the CLI reports it as an internal error, E900, exit 4).
import { createHash } from 'node:crypto';
import { dedupe, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { fold } from './fold.js';
import { parseSource, type Loaded } from './load.js';
import { makeLocator } from './locate.js';
import type { Model } from './model.js';
import { normalize, type Literals } from './normalize.js';
import { checkHostlistSizes, checkRules } from './rules.js';
import { validate } from './validate.js';

export interface Compiled {
  readonly loaded: Loaded;
  readonly diagnostics: readonly Diagnostic[];
  /** present when there are no errors */
  readonly model?: Model;
  readonly literals?: Literals;
  readonly inputSha256: string;
}

export function compile(name: string, bytes: Uint8Array): Compiled {
  const inputSha256 = createHash('sha256').update(bytes).digest('hex');
  const loaded = parseSource(name, bytes);
  if (loaded.value === undefined) return { loaded, diagnostics: sortDiagnostics(loaded.diagnostics), inputSha256 };
  const loc = makeLocator(loaded.doc);
  const v = validate(loaded.value, loc);
  if (!v.input) return { loaded, diagnostics: sortDiagnostics(dedupe(v.diagnostics)), inputSha256 };
  const f = fold(v.input, loc);
  const sizes = checkHostlistSizes(f.folded, loc); // before normalize expands them
  if (sizes.length) return { loaded, diagnostics: sortDiagnostics(dedupe([...f.diagnostics, ...sizes])), inputSha256 };
  const n = normalize(f.folded);
  const { model, literals } = n;
  const ds = sortDiagnostics(dedupe([...f.diagnostics, ...checkRules(f.folded, n, loc)]));
  return hasErrors(ds) ? { loaded, diagnostics: ds, inputSha256 } : { loaded, diagnostics: ds, model, literals, inputSha256 };
}
