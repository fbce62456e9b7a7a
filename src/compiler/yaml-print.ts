// How mhc lays out the YAML it writes (`mhc fmt`, `mhc init`): the yaml library's printer with
// the project's style, the one the examples are written in: two-space indentation, lists indented
// under their key, `{ key: value }` and `[a, b]` for flow collections, no line folding, comments
// kept (a comment written after `key:` of a block stays on that line), and every scalar of a
// parsed file spelt as it was written (quotes, escapes, `~`, `0x1F`, folded lines), unless its
// value changed or it has nowhere to stand as written. Pure.
import { isMap, isNode, isPair, isScalar, isSeq, Scalar, type Document, type Node, type Pair, type ParsedNode, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml';

type Collection = YAMLMap | YAMLSeq;
type ToString = Collection['toString'];

/**
 * Calls `fn` for every node of `root` (a document's contents, a node or a pair): keys, values and
 * items, parents first, with whether the node stands inside a flow collection. yaml's visit()
 * builds a path for every node; this does not, which matters at 100,000 compute nodes.
 */
export function eachNode(root: unknown, fn: (node: Node, inFlow: boolean) => void, inFlow = false): void {
  if (isPair(root)) {
    eachNode(root.key, fn, inFlow);
    eachNode(root.value, fn, inFlow);
    return;
  }
  if (!isNode(root)) return;
  fn(root, inFlow);
  if (isMap(root) || isSeq(root)) for (const item of root.items) eachNode(item, fn, inFlow || !!root.flow);
}

/**
 * The yaml printer pads every flow collection alike (`{ a: 1 }` and `[ a ]`, or `{a: 1}` and
 * `[a]`); the examples pad mappings and not lists. Each flow collection is given its own padding
 * by wrapping its toString (the context it passes down carries the padding to the items).
 */
function padFlow(node: Collection, padding: string): void {
  const own = Object.getPrototypeOf(node).toString as ToString;
  node.toString = ((ctx, onComment, onChompKeep) => own.call(node, ctx && { ...ctx, flowCollectionPadding: padding }, onComment, onChompKeep)) as ToString;
}

/** How each scalar of a parsed file was written, for printing it the same way (sourceSpellings). */
export type Spellings = WeakMap<Scalar, { readonly value: unknown; readonly text: string; readonly inFlow: boolean; readonly block: boolean }>;

export function printYaml(doc: Document, spellings?: Spellings): string {
  eachNode(doc.contents, (n) => {
    if (isMap(n) && n.flow) padFlow(n, ' ');
    if (isSeq(n) && n.flow) padFlow(n, '');
  });
  if (spellings) spellAsWritten(doc, spellings);
  return doc.toString({ lineWidth: 0, indent: 2, indentSeq: true });
}

/**
 * The source text of every scalar that can be printed again as it was written: a one-line plain
 * or quoted scalar, or a block scalar (`|`, `>`, `|-`, `>-`) without an indentation indicator,
 * `+` or a comment; never one with an anchor or a tag (those are printed around the value).
 */
export function sourceSpellings(doc: Document.Parsed, text: string): Spellings {
  const out: Spellings = new WeakMap();
  eachNode(doc.contents, (node, inFlow) => {
    if (!isScalar(node) || !node.range || node.anchor || node.tag) return;
    const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
    const raw = text
      .slice(node.range[0], node.range[1])
      .replace(/\r\n?/g, '\n')
      .replace(block ? /(\n[ \t]*)+$/ : /[ \t]+$/, '');
    if (block ? !/^[|>]-?\n/.test(`${raw}\n`) || node.comment : raw.includes('\n')) return;
    if (!block && typeof node.value !== 'object' && String(node.value) === raw) return; // printed as written anyway (most scalars)
    out.set(node, { value: node.value, text: raw, inFlow, block });
  });
  return out;
}

/**
 * The scalar as written, re-indented for where it stands now (a block scalar's lines keep their
 * indentation relative to each other), or undefined when it changed or cannot stand there.
 */
function asWritten(node: Scalar, spellings: Spellings, ctx: { indent: string; inFlow?: boolean | null }): string | undefined {
  const s = spellings.get(node);
  if (!s || s.value !== node.value || s.inFlow !== !!ctx.inFlow) return undefined;
  if (!s.block) return s.text;
  if (!ctx.indent) return undefined;
  const [header, ...lines] = s.text.split('\n');
  const cut = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return [header, ...lines.map((l) => (l.length > cut ? ctx.indent + l.slice(cut) : ''))].join('\n');
}

/** Makes the document's scalar tags print a scalar as written when they can (the tags are this document's own). */
function spellAsWritten(doc: Document, spellings: Spellings): void {
  doc.schema.tags = doc.schema.tags.map((t) => {
    const own = (t as ScalarTag).stringify;
    if ('collection' in t || !own) return t;
    const stringify: NonNullable<ScalarTag['stringify']> = (item, ctx, onComment, onChompKeep) => asWritten(item as Scalar, spellings, ctx) ?? own(item, ctx, onComment, onChompKeep);
    return { ...t, stringify };
  });
}

/**
 * Gives comments back to the key they were written at. The parser gives the comment after `key:`
 * of a block mapping or list to the block's first line (`key:` / `# comment` / `- item`), and the
 * comment above a block mapping's first key to the mapping: the first is given back to `key` (it
 * is printed on that line again), the second to the first key (it moves with it). `text` is the
 * source the document was parsed from.
 */
export function attachComments(doc: Document.Parsed, text: string): void {
  eachNode(doc.contents, (map) => {
    if (!isMap(map)) return;
    for (const pair of map.items) {
      const { key, value } = pair as Pair<ParsedNode | null, ParsedNode | null>;
      if (!key || !isScalar(key) || !(isMap(value) || isSeq(value)) || value.flow || !value.commentBefore) continue;
      const eol = text.indexOf('\n', key.range[1]);
      const after = text.slice(key.range[1], eol < 0 ? undefined : eol);
      if (!key.comment && /^[ \t]*:[ \t]*(?:[&!]\S*[ \t]+)*#/.test(after)) {
        const [first, ...rest] = value.commentBefore.split('\n');
        key.comment = first!;
        value.commentBefore = rest.length ? rest.join('\n') : undefined;
      }
      const firstKey = isMap(value) ? value.items[0]?.key : undefined;
      if (value.commentBefore && isScalar(firstKey)) {
        firstKey.commentBefore = [value.commentBefore, firstKey.commentBefore].filter(Boolean).join('\n');
        value.commentBefore = undefined;
      }
    }
  });
}

type Commented = { commentBefore?: string | null; comment?: string | null };

/** Removes and returns the comments of a node: before it, after it and (deep) inside it. */
export function takeAllComments(node: unknown): string[] {
  const out: string[] = [];
  const take = (n: Commented) => {
    for (const c of [n.commentBefore, n.comment]) if (c) out.push(c);
    n.commentBefore = n.comment = undefined;
  };
  eachNode(node, take);
  return out;
}
