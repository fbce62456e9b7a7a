// The audit rules, in the order they run. Each rule reports only its own codes (audit-codes.ts).
import type { AuditRule } from '../audit.js';
import type { AuditCode } from '../audit-codes.js';
import { files } from './files.js';
import { manifest } from './manifest.js';
import { network } from './network.js';
import { quorum } from './quorum.js';
import { secrets } from './secrets.js';
import { slurm } from './slurm.js';
import { target } from './target.js';
import { vip } from './vip.js';

export const RULES: readonly AuditRule[] = [quorum, vip, slurm, secrets, files, manifest, network, target];

/**
 * Compiler diagnostics that an audit rule reports itself, with why and fix: when that rule fired,
 * the compiler's diagnostic is not repeated as A001/A002.
 */
export const COVERED_COMPILER_CODES: Readonly<Record<string, AuditCode>> = {
  W301: 'A101',
  W302: 'A102',
  W307: 'A103',
  W303: 'A104',
  W309: 'A105',
  E305: 'A201',
  E306: 'A201',
  E307: 'A201',
  E319: 'A201',
  E304: 'A202',
  E315: 'A202',
  E316: 'A303',
  W304: 'A401',
};
