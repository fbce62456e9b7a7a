// A synthetic cluster: 5 controllers + N compute nodes in racks of identical hardware, written
// one node per line (flow mappings), the way large node lists are kept in practice.
export function syntheticCluster(computeCount = 10000) {
  let y = `cluster:\n  name: synthetic\nnetwork:\n  vip: 10.0.0.100\n  prefix: 16\ncontrollers:\n`;
  for (let i = 1; i <= 5; i++) y += `  - { hostname: ctl${i}, ip: 10.0.0.${i}, priority: ${200 - i}${i === 1 ? ', vip_owner: true' : ''} }\n`;
  y += `database:\n  password: \${DB_ROOT_PASSWORD}\nredis:\n  password: \${REDIS_PASSWORD}\nweb:\n  jwt_secret: \${JWT_SECRET}\n  session_secret: \${SESSION_SECRET}\ncompute_nodes:\n`;
  for (let i = 0; i < computeCount; i++) {
    const rack = Math.floor(i / 40) + 1;
    const gpu = rack % 10 === 0;
    const ip = `10.${1 + Math.floor(i / 65000)}.${Math.floor((i % 65000) / 250)}.${(i % 250) + 1}`;
    y += `  - { hostname: r${String(rack).padStart(3, '0')}n${String((i % 40) + 1).padStart(2, '0')}, ip: ${ip}, cpus: ${gpu ? 64 : 128}, memory: ${gpu ? '512GB' : '256GB'}${gpu ? ', gpus: { count: 4, type: h100 }' : ''} }\n`;
  }
  y += `slurm:\n  partitions:\n    - { name: batch, nodes: ALL, default: true, max_time: "2-00:00:00" }\n`;
  return y;
}
