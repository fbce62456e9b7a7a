// SHA256SUMS: one line per file of every bundle, in `sha256sum -c` format, run from out/<cluster>/.
import { sha256Of } from '../compiler/bundle.js';
import type { ClusterEmitter } from './emitter.js';

export const sha256sums: ClusterEmitter = {
  name: 'sha256sums',
  emit(_model, files) {
    return [{ path: 'SHA256SUMS', content: files.map((f) => `${sha256Of(f)}  ${f.path}`).join('\n'), mode: 0o644 }];
  },
};
