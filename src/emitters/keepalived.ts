// Placeholder: the keepalived emitter is being built (see its issue); it emits nothing yet.
import type { Emitter } from './emitter.js';

export const keepalived: Emitter = {
  name: 'keepalived',
  emit: () => [],
};
