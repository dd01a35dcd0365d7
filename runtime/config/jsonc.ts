/**
 * JSON with comments, the format of tsconfig.json and VS Code settings: RFC 8259 JSON plus
 * `// line` and `/* block *\/` comments and a trailing comma before `}` or `]`. Parsed into a
 * tree that keeps the line and column of every key and value, so that whoever checks the
 * values can say where each bad one is. Pure, no dependency.
 *
 * Choices:
 * - Duplicate keys are kept in the tree (JSON.parse would silently keep the last one); the
 *   validator reports them, together with every other problem.
 * - Positions are 1-based; a column counts UTF-16 code units from the start of the line, as
 *   editors and tsc report them. A UTF-8 byte order mark at the start is skipped.
 * - Nesting deeper than MAX_DEPTH is a syntax error (a configuration file never needs it, and
 *   recursion stays bounded).
 */

export interface Position {
  readonly line: number;
  readonly column: number;
}

export type JsonNode =
  | { readonly kind: 'object'; readonly at: Position; readonly entries: readonly JsonEntry[] }
  | { readonly kind: 'array'; readonly at: Position; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly at: Position; readonly value: string }
  | { readonly kind: 'number'; readonly at: Position; readonly value: number }
  | { readonly kind: 'boolean'; readonly at: Position; readonly value: boolean }
  | { readonly kind: 'null'; readonly at: Position };

export interface JsonEntry {
  readonly key: string;
  readonly keyAt: Position;
  readonly value: JsonNode;
}

export const MAX_DEPTH = 64;

/** A syntax error at a position. */
export class JsoncSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly at: Position,
  ) {
    super(`${at.line}:${at.column}: ${reason}`);
    this.name = 'JsoncSyntaxError';
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
// RFC 8259 §6.
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Parse `text`; throws JsoncSyntaxError at the first syntax error. */
export function parseJsonc(text: string): JsonNode {
  return new Parser(text).document();
}

class Parser {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly s: string) {
    if (s.charCodeAt(0) === 0xfeff) this.i = 1;
    this.lineStart = this.i;
  }

  document(): JsonNode {
    this.skip();
    if (this.i >= this.s.length) this.fail('empty file: expected a JSON object or value');
    const value = this.value(0);
    this.skip();
    if (this.i < this.s.length) this.fail(`unexpected ${this.describe()} after the end of the document`);
    return value;
  }

  private pos(): Position {
    return { line: this.line, column: this.i - this.lineStart + 1 };
  }

  private fail(reason: string, at: Position = this.pos()): never {
    throw new JsoncSyntaxError(reason, at);
  }

  private describe(): string {
    const c = this.s[this.i];
    return c === undefined ? 'end of file' : `character ${JSON.stringify(c)}`;
  }

  private newline(): void {
    this.line++;
    this.lineStart = this.i + 1;
  }

  /** Whitespace (RFC 8259 §2) and comments. */
  private skip(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\r') this.i++;
      else if (c === '\n') {
        this.newline();
        this.i++;
      } else if (c === '/' && this.s[this.i + 1] === '/') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      } else if (c === '/' && this.s[this.i + 1] === '*') {
        const start = this.pos();
        this.i += 2;
        for (;;) {
          if (this.i >= this.s.length) this.fail('unterminated /* comment', start);
          if (this.s[this.i] === '*' && this.s[this.i + 1] === '/') break;
          if (this.s[this.i] === '\n') this.newline();
          this.i++;
        }
        this.i += 2;
      } else return;
    }
  }

  private value(depth: number): JsonNode {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    const at = this.pos();
    const c = this.s[this.i];
    if (c === '{') return this.object(at, depth);
    if (c === '[') return this.array(at, depth);
    if (c === '"') return { kind: 'string', at, value: this.string() };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number(at);
    for (const [word, node] of [
      ['true', { kind: 'boolean', at, value: true }],
      ['false', { kind: 'boolean', at, value: false }],
      ['null', { kind: 'null', at }],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return node;
      }
    }
    if (c === "'") this.fail('strings take double quotes (")');
    return this.fail(`expected a value, found ${this.describe()}`);
  }

  private object(at: Position, depth: number): JsonNode {
    this.i++; // {
    const entries: JsonEntry[] = [];
    for (;;) {
      this.skip();
      if (this.s[this.i] === '}') break; // empty object, or a trailing comma before it
      if (this.s[this.i] !== '"') this.fail(`expected a "quoted" key or '}', found ${this.describe()}`);
      const keyAt = this.pos();
      const key = this.string();
      this.skip();
      if (this.s[this.i] !== ':') this.fail(`expected ':' after the key "${key}", found ${this.describe()}`);
      this.i++;
      this.skip();
      entries.push({ key, keyAt, value: this.value(depth + 1) });
      this.skip();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === '}') break;
      this.fail(`expected ',' or '}' after the value of "${key}", found ${this.describe()}`);
    }
    this.i++; // }
    return { kind: 'object', at, entries };
  }

  private array(at: Position, depth: number): JsonNode {
    this.i++; // [
    const items: JsonNode[] = [];
    for (;;) {
      this.skip();
      if (this.s[this.i] === ']') break;
      items.push(this.value(depth + 1));
      this.skip();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === ']') break;
      this.fail(`expected ',' or ']' in the array, found ${this.describe()}`);
    }
    this.i++; // ]
    return { kind: 'array', at, items };
  }

  /** RFC 8259 §7, at the opening quote. */
  private string(): string {
    const start = this.pos();
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === '\n') this.fail('unterminated string', start);
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c < ' ') this.fail(`control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')} in a string (escape it)`);
      if (c === '\\') {
        const e = this.s[this.i + 1];
        if (e === 'u') {
          const hex = this.s.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('\\u takes four hexadecimal digits');
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 6;
          continue;
        }
        const decoded = e === undefined ? undefined : ESCAPES[e];
        if (decoded === undefined) this.fail(`unknown escape \\${e ?? ''}`);
        out += decoded;
        this.i += 2;
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private number(at: Position): JsonNode {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (m === null) this.fail(`not a number: ${this.describe()}`);
    this.i += m[0].length;
    const next = this.s[this.i];
    if (next !== undefined && /[0-9A-Za-z_.]/.test(next)) this.fail(`not a number: ${JSON.stringify(m[0] + next)}…`, at);
    return { kind: 'number', at, value: Number(m[0]) };
  }
}
