/**
 * Where the project cites RFC sections outside the machines: the titles of its tests
 * (`describe` / `it` / `test`, which in this project name the section they check) and
 * the comments of the runtime. Both are read with the TypeScript parser, so a '§' in a
 * string or in test code never counts, only in a title or a comment.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import type { Role } from '../machines/introspect/catalog.js';
import { rfc6120Sections } from '../machines/introspect/sections.js';
import { readTestIndex, type TestIndex } from './test-index.js';

export interface TestRef {
  /** Path relative to the project root, '/'-separated. */
  readonly file: string;
  /** Enclosing describe titles and the test's own, joined with ' › '. */
  readonly title: string;
  /** RFC 6120 sections cited anywhere in that full title. */
  readonly sections: readonly string[];
}

export interface RuntimeRef {
  readonly file: string;
  /** The end(s) of the stream the file serves: runtime/client → client, runtime/server → server. */
  readonly roles: readonly Role[];
  readonly sections: readonly string[];
}

/** Test files in these folders are not about the protocol (documentation checks). */
const IGNORED_TEST_DIRS = ['test/docs'];

export function listFiles(root: string, dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(abs, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(suffix)) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(join(root, dir));
  return out;
}

/**
 * Every test's full title: literal titles from the source as it is now, and the titles that
 * templates expand to (generated tests) from the test index (./test-index.ts).
 */
export function scanTests(root: string, index: TestIndex = readTestIndex(root)): TestRef[] {
  const files = listFiles(root, 'test', '.test.ts').filter((f) => !IGNORED_TEST_DIRS.some((d) => f.startsWith(`${d}/`)));
  return files.flatMap((file) => withGeneratedTitles(file, testTitles(file, readFileSync(join(root, file), 'utf8')), index.get(file) ?? []));
}

/**
 * A generated title (a template, '${…}' in place of each expression, or an `each` title with
 * printf placeholders) stands for the indexed titles of its file that no literal title accounts for.
 */
export function withGeneratedTitles(file: string, scanned: readonly TestRef[], indexed: readonly string[]): TestRef[] {
  const literal = scanned.filter((t) => !isGenerated(t.title));
  if (literal.length === scanned.length || indexed.length === 0) return [...scanned];
  const known = new Set(literal.map((t) => t.title));
  const generated = indexed.map((name) => name.split(' > ').join(' › ')).filter((title) => !known.has(title));
  return [...literal, ...generated.map((title) => ({ file, title, sections: unique(rfc6120Sections(title)) }))];
}

const isGenerated = (title: string): boolean => title.includes('${…}') || /%[sdifjoO#]/.test(title);

const SUITE = new Set(['describe', 'suite']);
const TEST = new Set(['it', 'test']);

/** Every test in a file with its full title. Titles that are not literals keep their literal parts. */
export function testTitles(file: string, source: string): TestRef[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: TestRef[] = [];
  const visit = (node: ts.Node, suites: string[]): void => {
    if (ts.isCallExpression(node)) {
      const kind = calleeKind(node.expression);
      const first = node.arguments[0];
      const title = first !== undefined ? literalText(first) : undefined;
      if (kind !== undefined && title !== undefined) {
        const path = [...suites, title];
        if (kind === 'test') {
          const full = path.join(' › ');
          out.push({ file, title: full, sections: unique(rfc6120Sections(full)) });
        }
        for (const arg of node.arguments.slice(1)) visit(arg, kind === 'suite' ? path : suites);
        return;
      }
    }
    ts.forEachChild(node, (child) => visit(child, suites));
  };
  visit(sf, []);
  return out;
}

/** describe(...), it.each(...)(...), test.prop(...)(...), it.skip(...), describe.concurrent(...). */
function calleeKind(expr: ts.Expression): 'suite' | 'test' | undefined {
  let e: ts.Expression = expr;
  for (;;) {
    if (ts.isCallExpression(e)) e = e.expression;
    else if (ts.isPropertyAccessExpression(e)) e = e.expression;
    else break;
  }
  if (!ts.isIdentifier(e)) return undefined;
  if (SUITE.has(e.text)) return 'suite';
  if (TEST.has(e.text)) return 'test';
  return undefined;
}

function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => `\${…}${s.literal.text}`).join('');
  return undefined;
}

export function scanRuntime(root: string): RuntimeRef[] {
  const out: RuntimeRef[] = [];
  for (const file of listFiles(root, 'runtime', '.ts')) {
    // One text per file: a bare '§' belongs to the document the file named last (RFC 6125 in the TLS code).
    const sections = unique(rfc6120Sections(commentTexts(readFileSync(join(root, file), 'utf8')).join('\n')));
    if (sections.length > 0) out.push({ file, roles: rolesOf(file), sections });
  }
  return out;
}

function rolesOf(file: string): Role[] {
  if (file.startsWith('runtime/client/')) return ['client'];
  if (file.startsWith('runtime/server/')) return ['server'];
  return ['client', 'server'];
}

/** The text of every comment in a TypeScript source, in order. */
export function commentTexts(source: string): string[] {
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = new Map<number, string>();
  const take = (ranges: ts.CommentRange[] | undefined): void => {
    for (const r of ranges ?? []) found.set(r.pos, source.slice(r.pos, r.end));
  };
  // Walk tokens too (getChildren), so a comment before a closing brace is seen.
  const visit = (node: ts.Node): void => {
    take(ts.getLeadingCommentRanges(source, node.getFullStart()));
    take(ts.getTrailingCommentRanges(source, node.getEnd()));
    for (const child of node.getChildren(sf)) visit(child);
  };
  visit(sf);
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, text]) => text);
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
