// The canonical shape of a cluster YAML (`mhc fmt --canonical`), rewritten on the yaml Document
// so every comment and every scalar's style stays. Pure; works on a document compile() accepted.
//
// Canonical means: no anchors, aliases or merge keys (each is replaced by a copy of what it
// stands for); every setting in its canonical place and spelling (fold.ts: SPELLINGS,
// NODE_SPELLINGS, VALUE_SPELLINGS; `network.vip` a mapping); the keys of every mapping in the
// schema's order (schema.ts), `x-` keys after them in their own order; lists in their own order.
// A comment belongs to the key written below it and moves with it; the comments of a mapping
// emptied by the moves go to the first setting moved out of it; the file's first comment stays first.
import { isAlias, isMap, isNode, isScalar, isSeq, Pair, Scalar, YAMLMap, type Alias, type Document, type Node } from 'yaml';
import { NODE_SPELLINGS, SPELLINGS, VALUE_SPELLINGS, type Spelling } from './fold.js';
import type { Path, PathSeg } from './locate.js';
import { shapesAt } from './schema.js';
import { eachNode, takeAllComments } from './yaml-print.js';

export function canonicalize(doc: Document): void {
  foldAliases(doc);
  const root = doc.contents;
  if (!isMap(root)) return; // compile() refused it already
  const header = takeHeader(root);
  const spaced = sectionsSpaced(root);
  vipAsMapping(root);
  const moves = new Moves(doc);
  for (const s of Object.values(SPELLINGS)) moves.apply(root, s);
  for (const list of [SPELLINGS.controllers.canonical, SPELLINGS.compute.canonical]) {
    for (const node of mapsIn(root, list)) for (const s of Object.values(NODE_SPELLINGS)) moves.apply(node, s);
  }
  for (const v of VALUE_SPELLINGS) rewriteValues(root, v.path, v.canonical as (x: unknown) => unknown);
  orderKeys(root, [], new Map());
  settleTop(root, header, spaced);
}

// ------------------------------------------------------------------------------------- helpers

type AnyPair = Pair<unknown, unknown>;
interface Place {
  readonly map: YAMLMap;
  readonly pair: AnyPair;
}

const keyText = (p: AnyPair): string | undefined => (isScalar(p.key) && typeof p.key.value !== 'symbol' ? String(p.key.value) : undefined);
const pairOf = (map: YAMLMap, key: PathSeg): AnyPair | undefined => (map.items as AnyPair[]).find((p) => keyText(p) === String(key));
const isMergeKey = (k: unknown): boolean => isScalar(k) && typeof k.value === 'symbol' && k.value.description === '<<';

/** The pair at `path` below `root`, every step a mapping; undefined when any step is missing. */
function find(root: YAMLMap, path: Path): Place | undefined {
  let map = root;
  for (const [i, seg] of path.entries()) {
    const pair = pairOf(map, seg);
    if (!pair) return undefined;
    if (i === path.length - 1) return { map, pair };
    if (!isMap(pair.value)) return undefined;
    map = pair.value;
  }
  return undefined;
}

/** The mappings of the list at `path`. */
function mapsIn(root: YAMLMap, path: Path): YAMLMap[] {
  const list = find(root, path)?.pair.value;
  return isSeq(list) ? list.items.filter((i): i is YAMLMap => isMap(i)) : [];
}

const remove = (map: YAMLMap, pair: AnyPair): void => void map.items.splice((map.items as AnyPair[]).indexOf(pair), 1);

/** Removes and returns the comments a pair carries: its key's and its value's, before, after and inside. */
const takeComments = (p: AnyPair): string[] => [...takeAllComments(p.key), ...takeAllComments(p.value)];

function addComments(p: AnyPair, lines: readonly string[], where: 'before' | 'after'): void {
  if (!lines.length || !isScalar(p.key)) return;
  const own = p.key.commentBefore ? [p.key.commentBefore] : [];
  p.key.commentBefore = (where === 'before' ? [...lines, ...own] : [...own, ...lines]).join('\n');
}

// -------------------------------------------------------------------------------------- aliases

/**
 * Replaces every alias by a copy of the node it names (comments and anchors left out of the copy:
 * they stay with the original) and every merge key (`<<: *a`, `<<: [*a, *b]`) by the pairs it
 * brings in that the mapping does not set itself, earlier sources first, as YAML merges them.
 * Anchors are removed. The loader has already refused alias bombs (MAX_ALIAS_COUNT).
 */
function foldAliases(doc: Document): void {
  const targets = new Map<Alias, unknown>();
  const anchored: Node[] = [];
  let merges = false;
  eachNode(doc.contents, (n) => {
    if (isAlias(n)) targets.set(n, n.resolve(doc));
    else if ('anchor' in n && n.anchor) anchored.push(n);
    else if (isMergeKey(n)) merges = true;
  });
  for (const n of anchored) delete (n as { anchor?: string }).anchor;
  if (!targets.size && !merges) return;
  const done = new Set<unknown>();
  const plain = (n: unknown): unknown => {
    if (isAlias(n)) return copyFor(n, plain(targets.get(n)));
    if (!isNode(n) || done.has(n)) return n;
    done.add(n);
    if (isSeq(n)) n.items = n.items.map(plain);
    if (isMap(n)) n.items = (n.items as AnyPair[]).flatMap((p) => (isMergeKey(p.key) ? merged(n, p, plain) : [Object.assign(p, { key: plain(p.key), value: plain(p.value) })]));
    return n;
  };
  doc.contents = plain(doc.contents) as Node;
}

/** A copy of `target` standing where the alias was (with the alias's own comments and spacing). */
function copyFor(alias: Alias, target: unknown): Node {
  const copy = (target as Node).clone() as Node;
  takeAllComments(copy);
  eachNode(copy, (n) => void (n.spaceBefore = false));
  Object.assign(copy, { spaceBefore: alias.spaceBefore, commentBefore: alias.commentBefore, comment: alias.comment });
  return copy;
}

function merged(map: YAMLMap, merge: AnyPair, plain: (n: unknown) => unknown): AnyPair[] {
  const explicit = new Set((map.items as AnyPair[]).filter((p) => !isMergeKey(p.key)).map(keyText));
  const sources = isSeq(merge.value) ? merge.value.items : [merge.value];
  const out: AnyPair[] = [];
  for (const src of sources) {
    const m = plain(src);
    if (!isMap(m)) continue; // the loader refuses a merge of anything else
    for (const p of m.items as AnyPair[]) {
      const k = keyText(p);
      if (explicit.has(k) || out.some((q) => keyText(q) === k)) continue;
      out.push(p);
    }
  }
  if (out[0]) addComments(out[0], takeComments(merge), 'before');
  return out;
}

// --------------------------------------------------------------------------------------- shapes

/** `network.vip: 1.2.3.4` → `network.vip: { address: 1.2.3.4 }` (block), as schema.ts reads it. */
function vipAsMapping(root: YAMLMap): void {
  const at = find(root, ['network', 'vip']);
  if (!at || !isScalar(at.pair.value)) return;
  const address = at.pair.value;
  const key = new Scalar('address');
  key.commentBefore = address.commentBefore;
  address.commentBefore = undefined;
  const map = new YAMLMap();
  map.items.push(new Pair(key, address));
  at.pair.value = map;
}

/** Moves settings from their other spelling to the canonical one, remembering who inherits the comments of emptied mappings. */
class Moves {
  /** for each mapping something was moved out of: the first pair that now holds such a setting */
  private readonly heirs = new Map<YAMLMap, AnyPair>();

  constructor(private readonly doc: Document) {}

  apply(root: YAMLMap, s: Spelling): void {
    const from = find(root, s.other);
    if (!from || (s.onlyWith && !isMap(find(root, s.onlyWith)?.pair.value))) return;
    if (s.convert && !isScalar(from.pair.value)) this.convert(from.pair, s.convert);
    const there = find(root, s.canonical);
    let heir: AnyPair;
    if (there) {
      // both spellings, with the same value (compile() refuses two different ones: E206)
      addComments(there.pair, takeComments(from.pair), 'after');
      heir = there.pair;
    } else {
      const { map, created } = this.ensure(root, s.canonical.slice(0, -1));
      (from.pair.key as Scalar).value = s.canonical[s.canonical.length - 1];
      map.items.push(from.pair);
      heir = created ?? from.pair;
    }
    remove(from.map, from.pair);
    this.prune(root, s.other.slice(0, -1), heir);
  }

  /** The other spelling's value in the canonical form (`retention: { days: 14 }` → 14); its comments go before the key. */
  private convert(pair: AnyPair, convert: (v: unknown) => unknown): void {
    const old = pair.value as Node;
    const value = this.doc.createNode(convert(old.toJS(this.doc)));
    addComments(pair, takeAllComments(old), 'before');
    pair.value = value;
  }

  /** The mapping at `path`, made (block mappings) where missing; `created` is the outermost pair made. */
  private ensure(root: YAMLMap, path: Path): { map: YAMLMap; created?: AnyPair } {
    let map = root;
    let created: AnyPair | undefined;
    for (const seg of path) {
      let pair = pairOf(map, seg);
      if (!pair) {
        pair = new Pair(new Scalar(seg), new YAMLMap());
        map.items.push(pair);
        created ??= pair;
      }
      if (!isMap(pair.value)) throw new Error(`${path.join('.')}: ${String(seg)} is not a mapping`);
      map = pair.value;
    }
    return created ? { map, created } : { map };
  }

  /** Records `heir` for the mappings along `path`, then removes those left empty, their comments (and blank line) going to their heir. */
  private prune(root: YAMLMap, path: Path, heir: AnyPair): void {
    for (let i = 1; i <= path.length; i++) {
      const m = find(root, path.slice(0, i))?.pair.value;
      if (isMap(m) && !this.heirs.has(m)) this.heirs.set(m, heir);
    }
    for (let i = path.length; i > 0; i--) {
      const at = find(root, path.slice(0, i));
      if (!at || !isMap(at.pair.value) || at.pair.value.items.length) return;
      const to = this.heirs.get(at.pair.value) ?? heir;
      addComments(to, takeComments(at.pair), 'before');
      if (isScalar(at.pair.key) && at.pair.key.spaceBefore && isScalar(to.key) && root.items.includes(to as never)) to.key.spaceBefore = true;
      remove(at.map, at.pair);
    }
  }
}

/**
 * Rewrites the scalars at `path` (`*`: every list entry) to their canonical spelling. A list
 * entry that then repeats an earlier one is dropped (its comments go to that one): such lists
 * are sets to normalize.
 */
function rewriteValues(node: unknown, path: readonly string[], canonical: (v: unknown) => unknown): void {
  if (!path.length) {
    if (isScalar(node)) node.value = canonical(node.value);
    return;
  }
  const [seg, ...rest] = path as [string, ...string[]];
  if (seg !== '*') {
    if (isMap(node)) rewriteValues(pairOf(node, seg)?.value, rest, canonical);
    return;
  }
  if (!isSeq(node)) return;
  for (const item of node.items) rewriteValues(item, rest, canonical);
  if (rest.length) return;
  const kept: Scalar[] = [];
  node.items = node.items.filter((item) => {
    const same = isScalar(item) ? kept.find((k) => k.value === item.value) : undefined;
    if (!same) {
      if (isScalar(item)) kept.push(item);
      return true;
    }
    same.comment = [same.comment, ...takeAllComments(item)].filter(Boolean).join('\n') || undefined;
    return false;
  });
}

/** A mapping's key order at a place: the schema's keys there, by rank (memoized by the place without list indexes). */
type Ranks = ReadonlyMap<string, number>;

function ranksAt(path: Path, id: string, memo: Map<string, Ranks>): Ranks {
  let ranks = memo.get(id);
  if (!ranks) memo.set(id, (ranks = new Map([...new Set(shapesAt(path).flatMap((s) => Object.keys(s)))].map((k, i) => [k, i]))));
  return ranks;
}

/** Sorts every mapping's keys into the schema's order; keys the schema does not name (`x-`, a record's) keep theirs, after. */
function orderKeys(node: unknown, path: Path, memo: Map<string, Ranks>, id = ''): void {
  if (isSeq(node)) node.items.forEach((item, i) => orderKeys(item, [...path, i], memo, `${id}\0#`));
  if (!isMap(node)) return;
  const ranks = ranksAt(path, id, memo);
  const items = node.items as AnyPair[];
  if (ranks.size) {
    const rank = (p: AnyPair) => ranks.get(keyText(p) ?? '') ?? ranks.size;
    items.sort((a, b) => rank(a) - rank(b));
  }
  if (path.length && !node.flow && isScalar(items[0]?.key)) items[0].key.spaceBefore = false; // no blank line right after `key:`
  for (const p of items) {
    const k = keyText(p) ?? '';
    orderKeys(p.value, [...path, k], memo, `${id}\0${k}`);
  }
}

/** Whether most top-level sections (after the first) have a blank line before them. */
function sectionsSpaced(root: YAMLMap): boolean {
  const rest = (root.items as AnyPair[]).slice(1);
  return rest.filter((p) => isScalar(p.key) && p.key.spaceBefore).length * 2 > rest.length;
}

/** The comment above the file's first key: the file's header (the yaml-language-server line, a title). */
function takeHeader(root: YAMLMap): string | undefined {
  const key = (root.items[0] as AnyPair | undefined)?.key;
  if (!isScalar(key) || !key.commentBefore) return undefined;
  const header = key.commentBefore;
  key.commentBefore = undefined;
  return header;
}

/**
 * The file's header stays at the top whichever section now comes first; sections get a blank
 * line between them when most had one (but for a comment that holds one itself).
 */
function settleTop(root: YAMLMap, header: string | undefined, spaced: boolean): void {
  const items = root.items as AnyPair[];
  if (items[0] && header) addComments(items[0], [header], 'before');
  const isX = (p: AnyPair | undefined) => !!p && keyText(p)?.startsWith('x-');
  items.forEach((p, i) => {
    // a comment holding a blank line separates itself (its first part ends the section above);
    // users' x- keys in a row keep their own spacing
    const separated = isScalar(p.key) && !!p.key.commentBefore?.split('\n').includes('');
    if (isScalar(p.key) && (i === 0 || (spaced && !separated && !(isX(p) && isX(items[i - 1]))))) p.key.spaceBefore = i > 0;
  });
}
