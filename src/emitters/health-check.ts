// Placeholder: the health-check emitter is being built (see its issue); it emits nothing yet.
import type { Emitter } from './emitter.js';

export const healthCheck: Emitter = {
  name: 'health-check',
  emit: () => [],
};
