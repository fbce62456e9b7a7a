// Placeholder until its emitter lands (issue 3); registered so the registry order is fixed.
import type { Emitter } from './emitter.js';

export const mariadb: Emitter = {
  name: 'mariadb',
  emit() {
    return [];
  },
};
