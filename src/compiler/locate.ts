// Maps a path in the plain data (e.g. ['controllers', 0, 'ip']) back to its place in the
// YAML text. When the path goes deeper than the document (a default, a folded alias), the
// deepest existing node is used, so every diagnostic still points somewhere sensible.
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { Span } from './diagnostics.js';

export type PathSeg = string | number;
export type Path = readonly PathSeg[];

export interface Where {
  /** 'value' underlines the value, 'key' the key (used for unknown and duplicate keys) */
  readonly at?: 'value' | 'key';
}

export type Locator = (path: Path, where?: Where) => Span;

function spanOf(node: Node | null | undefined): Span | undefined {
  const r = node?.range;
  if (!r) return undefined;
  return { start: r[0], end: Math.max(r[1], r[0]) };
}

export function makeLocator(doc: Document.Parsed | undefined): Locator {
  return (path, where = {}) => {
    if (!doc) return { start: 0, end: 0 };
    let node: unknown = doc.contents;
    let best: Span = spanOf(doc.contents as Node) ?? { start: 0, end: 0 };
    // At the top level, point at the first key rather than the whole document.
    if (path.length === 0 && isMap(doc.contents)) {
      const first = doc.contents.items[0];
      if (first && isPair(first)) best = spanOf(first.key as Node) ?? best;
      return best;
    }
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return best;
        const last = i === path.length - 1;
        const keySpan = spanOf(pair.key as Node);
        const valSpan = spanOf(pair.value as Node);
        if (last && where.at === 'key') return keySpan ?? best;
        // a key with no value (`ip:`) has no useful value span: show the key
        if (!valSpan || (pair.value && isScalar(pair.value) && pair.value.value === null)) {
          best = keySpan ?? best;
        } else best = valSpan;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) return best;
        best = spanOf(item) ?? best;
        node = item;
      } else return best;
    }
    // For a whole mapping or list, underline only its first line: the caret must stay readable.
    if (isMap(node) || isSeq(node)) {
      const first = node.items[0];
      const firstSpan = isPair(first) ? spanOf(first.key as Node) : spanOf(first as Node);
      if (firstSpan && !node.flow) return { start: firstSpan.start, end: firstSpan.end };
    }
    return best;
  };
}
