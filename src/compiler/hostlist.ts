// Slurm hostlist expressions: compress ["n01","n02","n03"] → "n[01-03]" and expand back.
// Pure; used for slurm.conf NodeName/PartitionName lines and partition node lists.

/**
 * Natural order: "n2" < "n10"; equal numbers of different width ("n01" vs "n1") by width.
 * Names are compared run by run (digits / non-digits); digit runs by value, of any length.
 * Allocation-free: sorting 10,000 host names calls it ~130,000 times.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ie = runEnd(a, i);
    const je = runEnd(b, j);
    if (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      // by value: without leading zeros, the longer number is the larger; then digit by digit
      let si = i;
      while (si < ie - 1 && a.charCodeAt(si) === 48) si++;
      let sj = j;
      while (sj < je - 1 && b.charCodeAt(sj) === 48) sj++;
      if (ie - si !== je - sj) return ie - si < je - sj ? -1 : 1;
      for (let k = 0; k < ie - si; k++) {
        const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
        if (d !== 0) return d < 0 ? -1 : 1;
      }
      if (ie - i !== je - j) return ie - i - (je - j);
    } else {
      const x = a.slice(i, ie);
      const y = b.slice(j, je);
      if (x !== y) return x < y ? -1 : 1;
    }
    i = ie;
    j = je;
  }
  return runs(a, i) - runs(b, j);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** End of the run (digits or non-digits) starting at i. */
function runEnd(s: string, i: number): number {
  const d = isDigit(s.charCodeAt(i));
  let e = i + 1;
  while (e < s.length && isDigit(s.charCodeAt(e)) === d) e++;
  return e;
}
/** How many runs s has from i on. */
function runs(s: string, i: number): number {
  let n = 0;
  for (; i < s.length; i = runEnd(s, i)) n++;
  return n;
}

interface Parsed {
  prefix: string;
  num: string; // digits, may have leading zeros
  suffix: string;
}

function split(name: string): Parsed | undefined {
  // the last run of digits is the one that varies (node001, rack1-node07 → "rack1-node" + "07")
  const m = /^(.*?)(\d+)(\D*)$/.exec(name);
  if (!m) return undefined;
  return { prefix: m[1]!, num: m[2]!, suffix: m[3]! };
}

/**
 * Compresses host names into a comma-separated hostlist expression. Names sharing prefix,
 * suffix and digit width collapse into ranges; unpadded numbers (n1..n10) collapse too.
 * The result expands to exactly the input set (order: natural).
 */
export function compress(names: readonly string[]): string {
  const uniq = [...new Set(names)].sort(naturalCompare);
  // group by prefix and suffix, keeping first-seen (natural) order of groups and plain names
  const order: (string | { prefix: string; suffix: string; nums: string[] })[] = [];
  const byKey = new Map<string, { prefix: string; suffix: string; nums: string[] }>();
  for (const n of uniq) {
    const p = split(n);
    if (!p) {
      order.push(n);
      continue;
    }
    const key = `${p.prefix}\0${p.suffix}`;
    let g = byKey.get(key);
    if (!g) {
      g = { prefix: p.prefix, suffix: p.suffix, nums: [] };
      byKey.set(key, g);
      order.push(g);
    }
    g.nums.push(p.num);
  }
  const parts: string[] = [];
  for (const item of order) {
    if (typeof item === 'string') {
      parts.push(item);
      continue;
    }
    // Unpadded numbers (1, 2, 10) share one range; zero-padded ones share a range per width.
    const unpadded = item.nums.every((n) => n.length === 1 || !n.startsWith('0'));
    const widths = new Map<number, bigint[]>();
    for (const n of item.nums) {
      const w = unpadded ? 0 : n.length;
      if (!widths.has(w)) widths.set(w, []);
      widths.get(w)!.push(BigInt(n));
    }
    for (const [width, list] of [...widths].sort((a, b) => a[0] - b[0])) {
      parts.push(rangeExpr(item.prefix, item.suffix, width, list));
    }
  }
  return parts.join(',');
}

function rangeExpr(prefix: string, suffix: string, width: number, list: bigint[]): string {
  const fmt = (v: bigint) => v.toString().padStart(width, '0');
  const nums = [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (nums.length === 1) return `${prefix}${fmt(nums[0]!)}${suffix}`;
  const ranges: string[] = [];
  let lo = nums[0]!;
  let hi = lo;
  for (let i = 1; i <= nums.length; i++) {
    const v = nums[i];
    if (v !== undefined && v === hi + 1n) {
      hi = v;
      continue;
    }
    ranges.push(lo === hi ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`);
    if (v !== undefined) lo = hi = v;
  }
  return `${prefix}[${ranges.join(',')}]${suffix}`;
}

export class HostlistError extends Error {}

/**
 * The most host names mhc expands from hostlist expressions in one file, all of them together:
 * ten partitions each covering the largest real sites (~100,000 nodes). Expanding is refused
 * beyond it, before anything is allocated (rules.ts, E323).
 */
export const MAX_EXPANDED_HOSTNAMES = 1_000_000;

type Item = string | { readonly prefix: string; readonly suffix: string; readonly ranges: readonly { lo: bigint; hi: bigint; width: number }[] };

/** The names and [ranges] of an expression, checked but not expanded. */
function parse(expr: string): Item[] {
  // split on commas that are not inside brackets
  const items: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of expr) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (depth < 0) throw new HostlistError(`unbalanced "]" in ${JSON.stringify(expr)}`);
    if (ch === ',' && depth === 0) {
      items.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw new HostlistError(`unbalanced "[" in ${JSON.stringify(expr)}`);
  items.push(cur);
  return items.map((raw) => {
    const item = raw.trim();
    if (!item) throw new HostlistError(`empty name in ${JSON.stringify(expr)}`);
    const m = /^([^[\]]*)\[([^[\]]+)\]([^[\]]*)$/.exec(item);
    if (!m) {
      if (/[[\]]/.test(item)) throw new HostlistError(`only one [range] per name is supported: ${JSON.stringify(item)}`);
      return item;
    }
    const ranges = m[2]!.split(',').map((r) => {
      const rm = /^(\d+)(?:-(\d+))?$/.exec(r.trim());
      if (!rm) throw new HostlistError(`bad range ${JSON.stringify(r)} in ${JSON.stringify(item)}`);
      const a = rm[1]!;
      const b = rm[2] ?? a;
      const lo = BigInt(a);
      const hi = BigInt(b);
      if (hi < lo) throw new HostlistError(`range ${a}-${b} runs backwards in ${JSON.stringify(item)}`);
      return { lo, hi, width: a.length };
    });
    return { prefix: m[1]!, suffix: m[3]!, ranges };
  });
}

const countItems = (items: readonly Item[]): bigint => items.reduce((n, it) => n + (typeof it === 'string' ? 1n : it.ranges.reduce((k, r) => k + r.hi - r.lo + 1n, 0n)), 0n);

/** How many names an expression expands to, without expanding it (throws HostlistError when malformed). */
export function count(expr: string): bigint {
  return countItems(parse(expr));
}

/**
 * Expands "n[01-03,7],login1" → ["n01","n02","n03","n07","login1"]. Refused (HostlistError)
 * before anything is allocated when it would give more than `limit` names.
 */
export function expand(expr: string, limit = MAX_EXPANDED_HOSTNAMES): string[] {
  const items = parse(expr);
  if (countItems(items) > BigInt(limit)) throw new HostlistError(`${JSON.stringify(expr)} expands to more than ${limit} names`);
  const out: string[] = [];
  for (const it of items) {
    if (typeof it === 'string') out.push(it);
    else for (const r of it.ranges) for (let v = r.lo; v <= r.hi; v++) out.push(`${it.prefix}${v.toString().padStart(r.width, '0')}${it.suffix}`);
  }
  return out;
}
