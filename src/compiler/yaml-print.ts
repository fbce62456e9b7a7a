// How mhc lays out the YAML it writes (`mhc fmt`, `mhc init`): the yaml library's printer with
// the project's style, the one the examples are written in: two-space indentation, lists indented
// under their key, `{ key: value }` and `[a, b]` for flow collections, no line folding, comments
// kept (a comment written after `key:` of a block stays on that line). Pure.
import { isMap, isNode, isScalar, isSeq, visit, type Document, type Pair, type ParsedNode, type YAMLMap, type YAMLSeq } from 'yaml';

type Collection = YAMLMap | YAMLSeq;
type ToString = Collection['toString'];

/**
 * The yaml printer pads every flow collection alike (`{ a: 1 }` and `[ a ]`, or `{a: 1}` and
 * `[a]`); the examples pad mappings and not lists. Each flow collection is given its own padding
 * by wrapping its toString (the context it passes down carries the padding to the items).
 */
function padFlow(node: Collection, padding: string): void {
  const own = Object.getPrototypeOf(node).toString as ToString;
  node.toString = ((ctx, onComment, onChompKeep) => own.call(node, ctx && { ...ctx, flowCollectionPadding: padding }, onComment, onChompKeep)) as ToString;
}

export function printYaml(doc: Document): string {
  visit(doc, {
    Map: (_, m) => void (m.flow && padFlow(m, ' ')),
    Seq: (_, s) => void (s.flow && padFlow(s, '')),
  });
  return doc.toString({ lineWidth: 0, indent: 2, indentSeq: true });
}

/**
 * The parser gives the comment after `key:` of a block mapping or list to the block's first line
 * (`key:` / `# comment` / `- item`); this gives it back to the key, so it is printed where it was
 * written. `text` is the source the document was parsed from.
 */
export function keepKeyLineComments(doc: Document.Parsed, text: string): void {
  visit(doc, {
    Pair(_, pair) {
      const { key, value } = pair as Pair<ParsedNode | null, ParsedNode | null>;
      if (!key || !isScalar(key) || key.comment || !(isMap(value) || isSeq(value)) || value.flow || !value.commentBefore) return;
      const eol = text.indexOf('\n', key.range[1]);
      const after = text.slice(key.range[1], eol < 0 ? undefined : eol);
      if (!/^[ \t]*:[ \t]*(?:[&!]\S*[ \t]+)*#/.test(after)) return;
      const [first, ...rest] = value.commentBefore.split('\n');
      key.comment = first!;
      value.commentBefore = rest.length ? rest.join('\n') : undefined;
    },
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
  if (isNode(node)) {
    take(node);
    visit(node, { Node: (_, n) => take(n) });
  }
  return out;
}
