// cluster.json: the normalized Model, for humans, `mhc diff` and `mhc audit`. The Model holds
// secret names only, never values, so nothing needs redacting here.
import type { ClusterEmitter } from './emitter.js';

export const clusterJson: ClusterEmitter = {
  name: 'cluster-json',
  emit(model) {
    return [{ path: 'cluster.json', content: JSON.stringify(model, null, 2) }];
  },
};
