// Placeholder: the lifecycle emitter is being built (see its issue); it emits nothing yet.
import type { Emitter } from './emitter.js';

export const lifecycle: Emitter = {
  name: 'lifecycle',
  emit: () => [],
};
