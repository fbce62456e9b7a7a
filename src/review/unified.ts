// A line diff (Myers' O(ND) algorithm, "An O(ND) Difference Algorithm and Its Variations",
// 1986) and unified hunks with a fixed context. Pure and dependency-free.

export type Op = {
  readonly kind: 'equal' | 'delete' | 'insert';
  readonly line: string;
};

/** Splits a file into lines; the final newline (every bundle file has one) does not make an extra line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The shortest edit script from `a` to `b`, as a list of operations in order. Equal prefix and
 * suffix are trimmed first (the common case for config files: a few lines change), then Myers'
 * greedy forward search with the V array of each step kept for the backtrack.
 */
export function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const head: Op[] = a.slice(0, pre).map((line) => ({ kind: 'equal', line }));
  const tail: Op[] = a.slice(a.length - suf).map((line) => ({ kind: 'equal', line }));
  return [...head, ...myers(A, B), ...tail];
}

/** Beyond this many differences the middle is written as "all removed, all added" (correct, not minimal). */
export const MAX_EDIT_DISTANCE = 4000;

function myers(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((line) => ({ kind: 'insert', line }));
  if (m === 0) return a.map((line) => ({ kind: 'delete', line }));
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const off = max + 2;
  const v = new Int32Array(2 * max + 5);
  // trace[d] holds V before step d, for k in [-d-1, d+1] only (index k + d + 1): memory O(D²), not O(D·N)
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    const prev = trace[d]!;
    const at = (k: number) => prev[k + d + 1]!;
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      // move down (insert) at the lower edge, or when the diagonal above got further
      if (k === -d || (k !== d && at(k - 1) < at(k + 1))) x = at(k + 1);
      else x = at(k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return [...a.map((line): Op => ({ kind: 'delete', line })), ...b.map((line): Op => ({ kind: 'insert', line }))];
  // Backtrack through the saved V arrays.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const pv = trace[d]!;
    const at = (k: number) => pv[k + d + 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const pk = down ? k + 1 : k - 1;
    const px = at(pk);
    const py = px - pk;
    while (x > (down ? px : px + 1) && y > (down ? py + 1 : py)) {
      ops.push({ kind: 'equal', line: a[x - 1]! });
      x--;
      y--;
    }
    if (down) {
      ops.push({ kind: 'insert', line: b[y - 1]! });
      y--;
    } else {
      ops.push({ kind: 'delete', line: a[x - 1]! });
      x--;
    }
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: 'equal', line: a[x - 1]! });
    x--;
    y--;
  }
  return ops.reverse();
}

export interface HunkLine {
  readonly kind: ' ' | '-' | '+';
  readonly text: string;
}

export interface Hunk {
  /** 1-based first line in the old file (0 when the old range is empty, as diff -u writes it) */
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  readonly lines: readonly HunkLine[];
}

/** Unified hunks with `context` lines around each change (3, like diff -u); nearby changes merge. */
export function hunks(a: readonly string[], b: readonly string[], context = 3): Hunk[] {
  const ops = diffLines(a, b);
  const out: Hunk[] = [];
  // positions of ops: oldIndex/newIndex before each op
  const pos: { o: number; n: number }[] = [];
  let o = 0;
  let nn = 0;
  for (const op of ops) {
    pos.push({ o, n: nn });
    if (op.kind !== 'insert') o++;
    if (op.kind !== 'delete') nn++;
  }
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === 'equal') {
      i++;
      continue;
    }
    // a change starts at i: extend the hunk while the gap of equal lines is ≤ 2·context
    const start = Math.max(0, i - context);
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end]!.kind !== 'equal') end++;
      let gap = end;
      while (gap < ops.length && ops[gap]!.kind === 'equal') gap++;
      if (gap < ops.length && gap - end <= 2 * context) end = gap;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const lines: HunkLine[] = ops.slice(start, stop).map((op) => ({
      kind: op.kind === 'equal' ? ' ' : op.kind === 'delete' ? '-' : '+',
      text: op.line,
    }));
    const oldLines = lines.filter((l) => l.kind !== '+').length;
    const newLines = lines.filter((l) => l.kind !== '-').length;
    const p = pos[start]!;
    out.push({
      oldStart: oldLines ? p.o + 1 : p.o,
      oldLines,
      newStart: newLines ? p.n + 1 : p.n,
      newLines,
      lines,
    });
    i = stop;
  }
  return out;
}

export function hunkHeader(h: Hunk): string {
  const r = (s: number, n: number) => (n === 1 ? `${s}` : `${s},${n}`);
  return `@@ -${r(h.oldStart, h.oldLines)} +${r(h.newStart, h.newLines)} @@`;
}

/** A complete unified diff of two texts, with ---/+++ headers; '' when they are equal. */
export function unifiedDiff(oldName: string, newName: string, a: string, b: string, context = 3): string {
  const hs = hunks(splitLines(a), splitLines(b), context);
  if (!hs.length) return '';
  let s = `--- ${oldName}\n+++ ${newName}\n`;
  for (const h of hs) {
    s += `${hunkHeader(h)}\n`;
    for (const l of h.lines) s += `${l.kind}${l.text}\n`;
  }
  return s;
}
