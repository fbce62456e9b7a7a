// Placeholder: the operations emitter is being built (see its issue); it emits nothing yet.
import type { Emitter } from './emitter.js';

export const operations: Emitter = {
  name: 'operations',
  emit: () => [],
};
