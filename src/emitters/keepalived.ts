// Placeholder until its emitter lands (issue 3); registered so the registry order is fixed.
import type { Emitter } from './emitter.js';

export const keepalived: Emitter = {
  name: 'keepalived',
  emit() {
    return [];
  },
};
