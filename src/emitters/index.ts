// The ordered emitter registry. Per-target emitters run in this order; `manifest` is last
// because it describes what the others wrote. Cluster emitters run after every target,
// `sha256sums` last because it covers every other file.
import type { ClusterEmitter, Emitter } from './emitter.js';
import { hosts } from './hosts.js';
import { glusterfs } from './glusterfs.js';
import { mariadb } from './mariadb.js';
import { redis } from './redis.js';
import { slurm } from './slurm.js';
import { web } from './web.js';
import { keepalived } from './keepalived.js';
import { healthCheck } from './health-check.js';
import { lifecycle } from './lifecycle.js';
import { operations } from './operations.js';
import { manifest } from './manifest.js';
import { clusterJson } from './cluster-json.js';
import { sha256sums } from './sha256sums.js';
import { deploy } from './deploy.js';

export const EMITTERS: readonly Emitter[] = [hosts, glusterfs, mariadb, redis, slurm, keepalived, web, healthCheck, lifecycle, operations];
export const FINAL_EMITTER: Emitter = manifest;
export const CLUSTER_EMITTERS: readonly ClusterEmitter[] = [clusterJson, deploy, sha256sums];
