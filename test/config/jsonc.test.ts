/**
 * runtime/config/jsonc.ts: JSON with comments (tsconfig.json's format) into a tree that keeps
 * every key's and value's line and column; syntax errors name their position.
 */
import { describe, expect, it } from 'vitest';
import { JsoncSyntaxError, MAX_DEPTH, parseJsonc, type JsonNode } from '../../runtime/config/jsonc.js';

/** The plain value of a tree (what JSON.parse would give). */
function plain(n: JsonNode): unknown {
  if (n.kind === 'object') return Object.fromEntries(n.entries.map((e) => [e.key, plain(e.value)]));
  if (n.kind === 'array') return n.items.map(plain);
  return n.kind === 'null' ? null : n.value;
}

function syntaxError(text: string): JsoncSyntaxError {
  try {
    parseJsonc(text);
  } catch (e) {
    if (e instanceof JsoncSyntaxError) return e;
    throw e;
  }
  throw new Error(`parsed: ${text}`);
}

describe('JSON with comments', () => {
  it('RFC 8259 JSON parses as JSON.parse does', () => {
    const text = '{"a": [1, -2.5e3, true, false, null], "b": {"c": "x\\n\\u00e9\\"\\\\\\/"}, "d": ""}';
    expect(plain(parseJsonc(text))).toEqual(JSON.parse(text));
  });

  it('line and block comments, trailing commas, a byte order mark', () => {
    const text = '\ufeff// top\n{\n  /* a\n     block */ "port": 5222, // after\n  "list": [1, 2,],\n}\n// end';
    expect(plain(parseJsonc(text))).toEqual({ port: 5222, list: [1, 2] });
  });

  it('positions: 1-based line and column of every key and value, across comments', () => {
    const root = parseJsonc('{\n  // c\n  "a": 1,\n  /* x\n */ "b": [true]\n}');
    if (root.kind !== 'object') throw new Error('object expected');
    expect(root.at).toEqual({ line: 1, column: 1 });
    expect(root.entries.map((e) => [e.key, e.keyAt, e.value.at])).toEqual([
      ['a', { line: 3, column: 3 }, { line: 3, column: 8 }],
      ['b', { line: 5, column: 5 }, { line: 5, column: 10 }],
    ]);
  });

  it('duplicate keys are kept, in order, for the validator to report', () => {
    const root = parseJsonc('{"a": 1, "a": 2}');
    expect(root.kind === 'object' && root.entries.map((e) => plain(e.value))).toEqual([1, 2]);
  });

  it.each([
    ['', 1, 1, 'empty file'],
    ['{"a": 1', 1, 8, "expected ',' or '}'"],
    ['{\n  "a" 1\n}', 2, 7, "expected ':' after the key \"a\""],
    ['{\n  port: 1\n}', 2, 3, 'expected a "quoted" key'],
    ["{\"a\": 'x'}", 1, 7, 'double quotes'],
    ['{"a": "x\ny"}', 1, 7, 'unterminated string'],
    ['{"a": 1}\n/* open', 2, 1, 'unterminated /* comment'],
    ['{"a": 01}', 1, 7, 'not a number'],
    ['{"a": 1.}', 1, 7, 'not a number'],
    ['{"a": tru}', 1, 7, 'expected a value'],
    ['{"a": "\\x"}', 1, 8, 'unknown escape \\x'],
    ['{"a": "\\u12"}', 1, 8, 'four hexadecimal digits'],
    ['{"a": "\t"}', 1, 8, 'control character U+0009'],
    ['{"a": [1 2]}', 1, 10, "expected ',' or ']'"],
    ['{} {}', 1, 4, 'after the end of the document'],
    ['{"a": 1,,}', 1, 9, 'expected a "quoted" key'],
  ])('syntax error in %j at %i:%i (%s)', (text, line, column, reason) => {
    const e = syntaxError(text);
    expect(e.at).toEqual({ line, column });
    expect(e.reason).toContain(reason);
    expect(e.message).toBe(`${line}:${column}: ${e.reason}`);
  });

  it(`nesting deeper than ${MAX_DEPTH} is an error, not a stack overflow`, () => {
    expect(syntaxError('['.repeat(100_000)).reason).toContain(`deeper than ${MAX_DEPTH}`);
    expect(plain(parseJsonc(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`))).toBeDefined();
  });
});
