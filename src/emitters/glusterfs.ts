// Placeholder until its emitter lands (issue 3); registered so the registry order is fixed.
import type { Emitter } from './emitter.js';

export const glusterfs: Emitter = {
  name: 'glusterfs',
  emit() {
    return [];
  },
};
