// The purity checker behind test/unit/purity.test.ts: which lines of a TypeScript source reach
// the filesystem, the environment, the clock or randomness. Syntactic (the TypeScript parser, no
// type checking): it sees imports, require()/import() of a module by name, and value uses of the
// globals below; type positions (`let d: Date`, `typeof import('node:fs')`) and property names
// (`x.process`, `{ Date: 1 }`) are not uses.
import ts from 'typescript';

export interface Impurity {
  readonly file: string;
  /** 1-based */
  readonly line: number;
  readonly col: number;
  readonly what: string;
}

/** Modules whose import is impure by itself (without the `node:` prefix). */
const IMPURE_MODULES: Readonly<Record<string, string>> = {
  fs: 'the filesystem',
  'fs/promises': 'the filesystem',
  child_process: 'processes',
  os: 'the environment',
  process: 'the environment',
  module: 'loads modules from disk',
  net: 'the network',
  http: 'the network',
  https: 'the network',
  http2: 'the network',
  dgram: 'the network',
  dns: 'the network',
  tls: 'the network',
  tty: 'the terminal',
  readline: 'the terminal',
  worker_threads: 'threads',
  cluster: 'processes',
  timers: 'the clock',
  'timers/promises': 'the clock',
  perf_hooks: 'the clock',
  // third-party packages that read the disk
  'fast-glob': 'the filesystem',
  archiver: 'the filesystem (streams files into archives)',
};

/** node:crypto is pure except for these (createHash and friends are fine). */
const RANDOM_CRYPTO = /^(random\w*|getRandomValues|generateKey\w*|generatePrime\w*|webcrypto|subtle|createDiffieHellman\w*|createECDH|getDiffieHellman)$/;

/** Globals whose every value use is impure. */
const IMPURE_GLOBALS: Readonly<Record<string, string>> = {
  process: 'the environment',
  Date: 'the clock',
  performance: 'the clock',
  setTimeout: 'the clock',
  setInterval: 'the clock',
  setImmediate: 'the clock',
  clearTimeout: 'the clock',
  clearInterval: 'the clock',
  clearImmediate: 'the clock',
  crypto: 'randomness (the global Web Crypto)',
  fetch: 'the network',
  globalThis: 'any global (unchecked)',
  require: 'loads modules from disk',
};

/** String methods that read the locale of the environment when not given one. */
const LOCALE_METHODS: Readonly<Record<string, number>> = {
  toLocaleString: 1,
  toLocaleDateString: 1,
  toLocaleTimeString: 1,
  toLocaleUpperCase: 1,
  toLocaleLowerCase: 1,
  localeCompare: 2,
};

const bare = (spec: string) => spec.replace(/^node:/, '');

function isTypePosition(node: ts.Node): boolean {
  for (let p: ts.Node | undefined = node.parent; p; p = p.parent) {
    // `class X extends Date` is a value use even though the heritage clause is a type node
    if (ts.isExpressionWithTypeArguments(p) && ts.isHeritageClause(p.parent) && p.parent.token === ts.SyntaxKind.ExtendsKeyword && ts.isClassLike(p.parent.parent)) return false;
    if (ts.isTypeNode(p)) return true;
    if (ts.isInterfaceDeclaration(p) || ts.isTypeAliasDeclaration(p)) return true;
    if (ts.isStatement(p) || ts.isSourceFile(p)) return false;
  }
  return false;
}

/** The identifier names something (a property, a declaration, an import's name), not a global. */
function isNameNotReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if ((ts.isPropertyAccessExpression(p) || ts.isQualifiedName(p)) && (ts.isPropertyAccessExpression(p) ? p.name : p.right) === id) return true;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return true;
  if (ts.isBindingElement(p) && p.propertyName === id) return true;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return true;
  if (ts.isPropertyAssignment(p) && p.name === id) return true;
  if (ts.isMetaProperty(p)) return true;
  const named = p as ts.Node & { name?: ts.Node };
  if (
    named.name === id &&
    (ts.isDeclarationStatement(p) || ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p) || ts.isClassElement(p) || ts.isTypeElement(p) || ts.isEnumMember(p))
  )
    return true;
  return false;
}

/** Every impure use in one source file. */
export function findImpurities(file: string, text: string): Impurity[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: Impurity[] = [];
  const add = (node: ts.Node, what: string) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    found.push({ file, line: line + 1, col: character + 1, what });
  };
  const checkModule = (node: ts.Node, spec: string, how: string) => {
    const why = IMPURE_MODULES[bare(spec)];
    if (why) add(node, `${how} '${spec}' (${why})`);
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const spec = node.moduleSpecifier.text;
      const clause = node.importClause;
      if (!clause?.isTypeOnly) {
        const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements.filter((e) => !e.isTypeOnly) : [];
        const onlyTypes = clause && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) && named.length === 0;
        if (!onlyTypes) checkModule(node, spec, 'imports');
        if (bare(spec) === 'crypto') {
          for (const e of named) if (RANDOM_CRYPTO.test((e.propertyName ?? e.name).text)) add(e, `imports ${(e.propertyName ?? e.name).text} from '${spec}' (randomness)`);
          if (clause?.name || (clause?.namedBindings && ts.isNamespaceImport(clause.namedBindings))) add(node, `imports all of '${spec}' (randomness with it: import createHash and the like by name)`);
        }
      }
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      checkModule(node, node.moduleSpecifier.text, 're-exports');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression) && !node.isTypeOnly) {
      checkModule(node, node.moduleReference.expression.text, 'imports');
    } else if (ts.isCallExpression(node)) {
      // import('x'), require('x'), createRequire(...)('x'): a module loaded by name
      const first = node.arguments[0];
      if (first && ts.isStringLiteralLike(first)) checkModule(node, first.text, node.expression.kind === ts.SyntaxKind.ImportKeyword ? 'loads' : 'loads (by a call)');
      const callee = node.expression;
      if (ts.isPropertyAccessExpression(callee)) {
        const min = LOCALE_METHODS[callee.name.text];
        if (min !== undefined && node.arguments.length < min) add(callee.name, `${callee.name.text}() without a locale (the environment's)`);
      }
      if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'Intl' && node.arguments.length === 0)
        add(node, `Intl.${callee.name.text}() without a locale (the environment's)`);
    } else if (
      ts.isNewExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === 'Intl' &&
      !node.arguments?.length
    ) {
      add(node, `new Intl.${node.expression.name.text}() without a locale (the environment's)`);
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Math' && node.name.text === 'random') {
      add(node, 'Math.random (randomness)');
    } else if (
      ts.isElementAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'Math' &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      node.argumentExpression.text === 'random'
    ) {
      add(node, 'Math.random (randomness)');
    } else if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword && node.name.text === 'meta') {
      add(node, 'import.meta (where the module is on disk)');
    } else if (ts.isIdentifier(node)) {
      const why = Object.hasOwn(IMPURE_GLOBALS, node.text) ? IMPURE_GLOBALS[node.text] : undefined;
      if (why && !isNameNotReference(node) && !isTypePosition(node)) {
        const p = node.parent;
        const shown = ts.isPropertyAccessExpression(p) && p.expression === node ? `${node.text}.${p.name.text}` : node.text;
        add(node, `${shown} (${why})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

export const formatImpurity = (i: Impurity): string => `${i.file}:${i.line}:${i.col}: ${i.what}`;

/**
 * The impure uses of a tree of sources (path → text) outside the allowlist (path → reason), and
 * the allowlisted paths that no longer have any (a stale entry hides nothing, but says what is not).
 */
export function checkPurity(files: ReadonlyMap<string, string>, allow: Readonly<Record<string, string>>): { violations: Impurity[]; stale: string[] } {
  const violations: Impurity[] = [];
  const used = new Set<string>();
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const found = findImpurities(file, text);
    if (Object.hasOwn(allow, file)) {
      if (found.length) used.add(file);
    } else violations.push(...found);
  }
  const stale = Object.keys(allow).filter((f) => files.has(f) && !used.has(f));
  return { violations, stale };
}
