/** A synthetic cluster YAML: 5 controllers + `computeCount` compute nodes in racks of 40 (every tenth rack with GPUs). */
export function syntheticCluster(computeCount?: number): string;
