// The service registry: every service's descriptor (owned by its emitter), in start-phase order
// (its place here is its phase number),
// and what the scripts, the health check, the backup and the port table derive from them. Adding
// a service: its emitter with its descriptor, its template folder, one line here.
import { SERVICES, type Controller, type Model } from '../compiler/model.js';
import { CompilerBug } from '../compiler/bundle.js';
import type { Check, PortRule, ServiceDescriptor } from './service.js';
import { glusterfsService } from './glusterfs.js';
import { mariadbService } from './mariadb.js';
import { redisService } from './redis.js';
import { slurmService } from './slurm.js';
import { keepalivedService } from './keepalived.js';
import { webService } from './web.js';
import { backupService } from './operations.js';

/** Phase 0 is the node itself (packages, files, /etc/hosts): no service owns it. */
export const INFRASTRUCTURE_PHASE = { number: 0, name: 'infrastructure' } as const;

let registry: readonly ServiceDescriptor[] | undefined;
/** Every descriptor in phase order (built on first use: the emitters import this module too). */
export function services(): readonly ServiceDescriptor[] {
  if (!registry) {
    const list = [glusterfsService, mariadbService, redisService, slurmService, keepalivedService, webService, backupService];
    const keys = list.filter((d) => (SERVICES as readonly string[]).includes(d.key)).map((d) => d.key);
    if (keys.join() !== SERVICES.join()) throw new CompilerBug(`the registry's services (${keys.join()}) are not the Model's (${SERVICES.join()})`);
    registry = list;
  }
  return registry;
}

/** The services a YAML can enable on a controller (`services:`), in phase order; the others (backup) concern every node. */
export const selectable = (): readonly ServiceDescriptor[] => services().filter((d) => (SERVICES as readonly string[]).includes(d.key));

export function descriptor(key: string): ServiceDescriptor {
  const d = services().find((s) => s.key === key);
  if (!d) throw new CompilerBug(`no service ${key}`);
  return d;
}

/**
 * Every phase of start_multihead.sh: number, name, the descriptor that owns it (`key`, '' for
 * phase 0) and the selectable service it sets up (`service`, '' for a node-wide phase).
 */
export function phases(): { number: number; name: string; key: string; service: string }[] {
  const sel = new Set(selectable().map((d) => d.key));
  return [{ ...INFRASTRUCTURE_PHASE, key: '', service: '' }, ...services().map((d, i) => ({ number: i + 1, name: d.phase, key: d.key, service: sel.has(d.key) ? d.key : '' }))];
}

/** The descriptors whose phase concerns this node, in phase order. */
export const servicesHere = (model: Model, node: Controller): ServiceDescriptor[] => services().filter((d) => d.here(model, node));

/** Debian packages this controller needs, in phase order, each once. */
export const packagesOf = (model: Model, node: Controller): string[] => [...new Set(servicesHere(model, node).flatMap((d) => d.packages(model, node)))];

/** The health check's checks on this node, in phase order. */
export const checksOf = (model: Model, node: Controller): Check[] => servicesHere(model, node).flatMap((d) => d.checks(model, node));

/** The firewall rules this controller needs, in phase order. */
export const portsOf = (model: Model, node: Controller): PortRule[] => servicesHere(model, node).flatMap((d) => d.ports(model, node));

/** Every backup item, in phase order, and those this node has. */
export const backupItems = (): string[] => services().flatMap((d) => d.backupItems.map((i) => i.name));
export const backupItemsHere = (model: Model, node: Controller): string[] => services().flatMap((d) => d.backupItems.filter((i) => i.here(model, node)).map((i) => i.name));
