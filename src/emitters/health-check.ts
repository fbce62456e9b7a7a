// The health check keepalived's vrrp_script runs on every controller:
// files/usr/local/sbin/check_all_services.sh checks exactly the services enabled on the node
// (keepalived, its caller, excepted), all in parallel, each command under `timeout`, the whole
// script bounded by a deadline; exit 0 only when every check passed. Slurm controllers also get
// files/etc/mhc/health/slurmctld-ping.conf: slurm.conf with this node as the only SlurmctldHost,
// so `scontrol ping` asks this node's slurmctld alone (the plain one asks every controller in
// turn, and waits out a dead peer's connect timeout first).
//
// Every check asks this node only — never the VIP, never a peer: a check that needed the VIP
// (e.g. slurmdbd, whose database is at the VIP) would keep every node unhealthy while no node
// holds the VIP, and so keep the VIP down for ever.
import { render } from "../compiler/render.js";
import { shellQuote } from "../compiler/quote.js";
import {
  CompilerBug,
  type BundleFile,
  type EmittedFile,
} from "../compiler/bundle.js";
import {
  runs,
  type Controller,
  type Model,
  type ServiceKey,
} from "../compiler/model.js";
import { instances, sentinelStaticPath } from "./redis.js";
import { stateOnMount } from "./slurm.js";
import type { Emitter } from "./emitter.js";

export const CHECK_SCRIPT = "/usr/local/sbin/check_all_services.sh";
export const SLURMCTLD_PING_CONF = "/etc/mhc/health/slurmctld-ping.conf";
/** Debian's MariaDB socket (60-galera.cnf does not move it). */
export const MARIADB_SOCKET = "/run/mysqld/mysqld.sock";
/** The site's plain-HTTP server answers /health itself (templates/web/site.hbs), with or without TLS. */
export const NGINX_HEALTH_URL = "http://127.0.0.1/health";
/** Seconds one command may take, then seconds until SIGKILL. */
export const CMD_TIMEOUT = 2;
export const KILL_AFTER = 1;
/** Seconds the script waits for every result: it answers in about this long, whatever hangs. */
export const DEADLINE = 2.5;

const files = (p: string): string => `files${p}`;

/** One check: its name (`service` or `service:what`), the bash function and its arguments. */
export interface Check {
  name: string;
  service: ServiceKey;
  fn:
    | "check_mariadb"
    | "check_redis"
    | "check_slurmctld"
    | "check_mount"
    | "check_http";
  args: string[];
}

/** The checks of one controller, in a fixed order (service order of the Model, then ports/names). */
export function checks(model: Model, node: Controller): Check[] {
  const out: Check[] = [];
  const add = (
    service: ServiceKey,
    what: string | undefined,
    fn: Check["fn"],
    args: (string | number)[],
  ) =>
    out.push({
      name: what ? `${service}:${what}` : service,
      service,
      fn,
      args: args.map(String),
    });
  const g = model.gluster;
  if (g && runs(node, "glusterfs"))
    add("glusterfs", "mount", "check_mount", [g.mountPoint]);
  const db = model.galera;
  if (db && runs(node, "mariadb")) {
    // a Donor keeps serving with mariabackup (non-blocking); rsync SST locks the donor's tables
    add("mariadb", undefined, "check_mariadb", [
      MARIADB_SOCKET,
      db.sstMethod === "mariabackup" ? 1 : 0,
    ]);
  }
  const r = model.redis;
  if (r && runs(node, "redis")) {
    for (const i of instances(r, node))
      add("redis", String(i.port), "check_redis", [
        node.ip,
        i.port,
        i.staticPath,
      ]);
    if (r.mode === "sentinel")
      add("redis", `sentinel:${r.sentinel.port}`, "check_redis", [
        node.ip,
        r.sentinel.port,
        sentinelStaticPath,
      ]);
  }
  const s = model.slurm;
  if (s && runs(node, "slurm")) {
    if (!s.controllers.some((c) => c.hostname === node.hostname))
      throw new CompilerBug(
        `${node.hostname} runs slurm but is no SlurmctldHost`,
      );
    add("slurm", "slurmctld", "check_slurmctld", [
      node.hostname,
      SLURMCTLD_PING_CONF,
    ]);
    // the state directory's mount, when this node mounts the volume without serving it
    const mount = stateOnMount(model);
    if (mount && !runs(node, "glusterfs"))
      add("slurm", "state-mount", "check_mount", [mount]);
  }
  const w = model.web;
  if (w && runs(node, "web")) {
    add("web", "nginx", "check_http", [NGINX_HEALTH_URL, w.domain]);
    for (const svc of w.services)
      add("web", svc.name, "check_http", [
        `http://127.0.0.1:${svc.port}${svc.healthPath}`,
      ]);
  }
  return out;
}

/**
 * slurm.conf (as the slurm emitter wrote it) with this node as its only SlurmctldHost, for
 * `SLURM_CONF=… scontrol ping`: every other setting (port, auth) stays as the daemons read it.
 */
export function slurmctldPingConf(slurmConf: string, node: Controller): string {
  const body = slurmConf
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
  const first = body.findIndex((l) => l.startsWith("SlurmctldHost="));
  if (first < 0) throw new CompilerBug("slurm.conf without SlurmctldHost");
  const rest = body.filter((l) => !l.startsWith("SlurmctldHost="));
  rest.splice(first, 0, `SlurmctldHost=${node.hostname}(${node.ip})`);
  return [
    "# Generated by mhc from the cluster YAML; do not edit by hand.",
    `# Only for ${CHECK_SCRIPT}: /etc/slurm/slurm.conf with ${node.hostname} as the only SlurmctldHost,`,
    "# so `SLURM_CONF=<this file> scontrol ping` asks this node's slurmctld alone. Never start a daemon with it.",
    ...rest,
  ].join("\n");
}

const COMMANDS: Record<Check["fn"], string[]> = {
  check_mariadb: ["mariadb (or mysql)"],
  check_redis: ["redis-cli"],
  check_slurmctld: ["scontrol"],
  check_mount: ["mountpoint", "stat"],
  check_http: ["curl"],
};

export function checkScript(model: Model, node: Controller): string {
  const list = checks(model, node);
  const uses = (fn: Check["fn"]) => list.some((c) => c.fn === fn);
  const services = node.services.filter((s) => s !== "keepalived");
  return render("health-check/check_all_services.sh", {
    hostname: node.hostname,
    serviceList: services.length ? services.join(", ") : "none",
    cmdTimeout: CMD_TIMEOUT,
    killAfter: KILL_AFTER,
    deadline: DEADLINE,
    mariadb: uses("check_mariadb"),
    redis: uses("check_redis"),
    slurm: uses("check_slurmctld"),
    mount: uses("check_mount"),
    http: uses("check_http"),
    commands: [...new Set(list.flatMap((c) => COMMANDS[c.fn]))],
    checks: list.map((c) =>
      [c.name, c.fn, ...c.args].map(shellQuote).join(" "),
    ),
  });
}

export const healthCheck: Emitter = {
  name: "health-check",
  emit(model, target, sofar: readonly BundleFile[]) {
    if (target.kind !== "controller") return [];
    const node = target.node;
    const out: EmittedFile[] = [
      {
        path: files(CHECK_SCRIPT),
        content: checkScript(model, node),
        mode: 0o755,
        owner: "root",
        group: "root",
      },
    ];
    if (checks(model, node).some((c) => c.fn === "check_slurmctld")) {
      const conf = sofar.find((f) => f.dest === "/etc/slurm/slurm.conf");
      if (!conf)
        throw new CompilerBug(
          `${node.hostname} runs slurm but has no slurm.conf`,
        );
      out.push({
        path: files(SLURMCTLD_PING_CONF),
        content: slurmctldPingConf(conf.content, node),
        mode: 0o644,
        owner: "root",
        group: "root",
      });
    }
    return out;
  },
};
