/**
 * Command parser (RFC 9051 §4, §9): one command's bytes, as the CommandReader delivers them
 * (literal octets inline, final CRLF stripped), into tag, command name and a token tree.
 *
 * Tokens are generic (atoms, strings, NIL, parenthesised lists); what they mean is the
 * command handler's business, read through the {@link Args} cursor. Two liberties make the
 * token tree easy to use:
 * - a "[" inside an atom opens a section that runs to its "]", spaces, parentheses and
 *   quoted strings included, so `BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>` is ONE atom
 *   (a "[" with no "]" on the line is an ordinary atom character, as in a mailbox `a[b`);
 * - atoms may hold `%`, `*`, `\` and `]`, so list-mailbox patterns, sequence sets with `*`
 *   and flags like `\Seen` are atoms too; the Args cursor applies the stricter rules.
 *
 * Every failure is an ImapProtocolError with status BAD, carrying the tag when it was read.
 */
import { ImapProtocolError } from "./errors.ts";
import { isValidTag } from "./reader.ts";
import { parseSequenceSet, type SequenceSet } from "./sequence-set.ts";

export type Token =
  | { type: "atom"; value: string }
  /** Quoted (unescaped) or literal; `binary` for a literal8 (`~{n}`, RFC 3516). */
  | { type: "string"; value: Buffer; binary?: boolean }
  /** `raw` keeps the atom as sent ("NIL", "nil"), for places where NIL is just an astring. */
  | { type: "nil"; raw?: string }
  | { type: "list"; items: Token[] };

export interface ParsedCommand {
  tag: string;
  /** Upper-cased; UID commands as "UID FETCH", "UID STORE" etc. */
  name: string;
  args: Token[];
}

export interface ParseOptions {
  /** Deepest list nesting accepted (default 32). */
  maxDepth?: number;
}

export const DEFAULT_MAX_DEPTH = 32;

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const TILDE = 0x7e;
const CR = 0x0d;
const LF = 0x0a;

function isCtl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

/** Ends an atom (outside a [section]). */
function endsAtom(c: number): boolean {
  return c === SP || c === LPAREN || c === RPAREN || c === LBRACE || c === DQUOTE || isCtl(c);
}

/** ATOM-CHAR: any CHAR except atom-specials `(){ SP CTL % * " \ ]`. */
function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== LPAREN && c !== RPAREN && c !== LBRACE && c !== 0x25 && c !== 0x2a && c !== DQUOTE && c !== BACKSLASH && c !== RBRACKET;
}

function printable(bytes: Buffer): string {
  const text = bytes.toString("latin1").replace(/[^\x20-\x7e]/g, "?");
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

class Lexer {
  readonly buf: Buffer;
  pos = 0;
  readonly tag: string | null;
  readonly maxDepth: number;

  constructor(buf: Buffer, tag: string | null, maxDepth: number) {
    this.buf = buf;
    this.tag = tag;
    this.maxDepth = maxDepth;
  }

  fail(text: string): never {
    throw new ImapProtocolError("BAD", text, { tag: this.tag });
  }

  /** Tokens up to the end (depth 0) or up to and including the ")" closing a list. */
  tokens(depth: number): Token[] {
    const items: Token[] = [];
    const { buf } = this;
    for (;;) {
      while (this.pos < buf.length && buf[this.pos] === SP) this.pos++;
      if (this.pos >= buf.length) {
        if (depth > 0) this.fail("Unbalanced parentheses: missing )");
        return items;
      }
      const c = buf[this.pos] as number;
      if (c === RPAREN) {
        if (depth === 0) this.fail("Unbalanced parentheses: unexpected )");
        this.pos++;
        return items;
      }
      items.push(this.token(depth));
      // A token ends at SP, at the ")" closing its list, or at the end.
      if (this.pos < buf.length) {
        const after = buf[this.pos] as number;
        if (isCtl(after)) this.fail(`Invalid character 0x${after.toString(16).padStart(2, "0")}`);
        if (after !== SP && after !== RPAREN) this.fail(`Missing space before "${printable(buf.subarray(this.pos, this.pos + 10))}"`);
      }
    }
  }

  token(depth: number): Token {
    const { buf } = this;
    const c = buf[this.pos] as number;
    if (c === LPAREN) {
      if (depth + 1 > this.maxDepth) this.fail("Lists nested too deeply");
      this.pos++;
      return { type: "list", items: this.tokens(depth + 1) };
    }
    if (c === DQUOTE) return { type: "string", value: this.quoted() };
    if (c === LBRACE || (c === TILDE && buf[this.pos + 1] === LBRACE)) return this.literal();
    const atom = this.atom();
    if (atom.toUpperCase() === "NIL") return { type: "nil", raw: atom };
    return { type: "atom", value: atom };
  }

  quoted(): Buffer {
    const { buf } = this;
    const start = ++this.pos;
    let out: number[] | null = null; // only built when an escape appears
    for (let i = start; i < buf.length; i++) {
      const c = buf[i] as number;
      if (c === DQUOTE) {
        this.pos = i + 1;
        return out === null ? Buffer.from(buf.subarray(start, i)) : Buffer.from(out);
      }
      if (c === CR || c === LF || c === 0) this.fail("Invalid character in quoted string");
      if (c === BACKSLASH) {
        const next = buf[i + 1];
        if (next !== DQUOTE && next !== BACKSLASH) this.fail("Invalid escape in quoted string (only \\\" and \\\\ are allowed)");
        out ??= [...buf.subarray(start, i)];
        out.push(next);
        i++;
        continue;
      }
      out?.push(c);
    }
    this.fail("Unterminated quoted string");
  }

  /** `{n}`, `{n+}`, `~{n}`, `~{n+}`, CRLF, n octets. */
  literal(): Token {
    const { buf } = this;
    const binary = buf[this.pos] === TILDE;
    const header = /^~?\{([0-9]{1,15})(\+?)\}(\r?\n)/.exec(buf.subarray(this.pos, this.pos + 24).toString("latin1"));
    if (!header) this.fail("Invalid literal");
    const size = Number(header[1]);
    const dataStart = this.pos + header[0].length;
    if (dataStart + size > buf.length) this.fail("Literal data truncated");
    this.pos = dataStart + size;
    const value = buf.subarray(dataStart, dataStart + size);
    return binary ? { type: "string", value, binary: true } : { type: "string", value };
  }

  atom(): string {
    const { buf } = this;
    const start = this.pos;
    let i = start;
    while (i < buf.length) {
      const c = buf[i] as number;
      if (endsAtom(c)) break;
      if (c >= 0x80) this.fail("8-bit data in atom");
      if (c === LBRACKET) {
        const close = this.sectionEnd(i);
        if (close > 0) {
          i = close;
          continue;
        }
      }
      i++;
    }
    if (i === start) {
      const c = buf[i] as number;
      this.fail(isCtl(c) ? `Invalid character 0x${c.toString(16).padStart(2, "0")}` : `Unexpected "${String.fromCharCode(c)}"`);
    }
    this.pos = i;
    return buf.toString("latin1", start, i);
  }

  /** Index just past the "]" matching the "[" at `open`, or -1 when the line has none. */
  sectionEnd(open: number): number {
    const { buf } = this;
    let i = open + 1;
    while (i < buf.length) {
      const c = buf[i] as number;
      if (c === RBRACKET) return i + 1;
      if (c === LBRACKET || c === CR || c === LF) return -1;
      if (c === DQUOTE) {
        i++;
        while (i < buf.length && buf[i] !== DQUOTE) {
          if (buf[i] === CR || buf[i] === LF) return -1;
          i += buf[i] === BACKSLASH ? 2 : 1;
        }
        i++;
        continue;
      }
      if (c === LBRACE || c === TILDE) {
        const header = /^~?\{([0-9]{1,15})\+?\}\r?\n/.exec(buf.subarray(i, i + 24).toString("latin1"));
        if (header) {
          i += header[0].length + Number(header[1]);
          continue;
        }
      }
      i++;
    }
    return -1;
  }
}

/** Parses one command. Throws ImapProtocolError (BAD), with the tag when it could be read. */
export function parseCommand(bytes: Buffer, options: ParseOptions = {}): ParsedCommand {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (bytes.length === 0) throw new ImapProtocolError("BAD", "Empty command line");
  let tagEnd = bytes.indexOf(SP);
  if (tagEnd < 0) tagEnd = bytes.length;
  if (tagEnd === 0) throw new ImapProtocolError("BAD", "Missing tag");
  const tag = bytes.toString("latin1", 0, tagEnd);
  if (!isValidTag(tag)) throw new ImapProtocolError("BAD", `Invalid tag "${printable(bytes.subarray(0, tagEnd))}"`);

  const lexer = new Lexer(bytes, tag, maxDepth);
  const readName = (): string => {
    if (lexer.pos >= bytes.length || bytes[lexer.pos] !== SP) lexer.fail("Missing command name");
    lexer.pos++;
    const start = lexer.pos;
    while (lexer.pos < bytes.length && bytes[lexer.pos] !== SP) {
      if (!isAtomChar(bytes[lexer.pos] as number)) lexer.fail("Invalid command name");
      lexer.pos++;
    }
    if (lexer.pos === start) lexer.fail("Missing command name");
    return bytes.toString("latin1", start, lexer.pos).toUpperCase();
  };

  lexer.pos = tagEnd;
  let name = readName();
  if (name === "UID") name = `UID ${readName()}`;
  if (lexer.pos < bytes.length && bytes[lexer.pos] !== SP) lexer.fail("Invalid command name");
  const args = lexer.tokens(0);
  return { tag, name, args };
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const MAX_NUMBER = 0xffff_ffff;
const MAX_NUMBER64 = 0x7fff_ffff_ffff_ffffn;

function describe(token: Token | undefined): string {
  if (token === undefined) return "end of command";
  switch (token.type) {
    case "atom":
      return `"${token.value.length > 30 ? `${token.value.slice(0, 30)}...` : token.value}"`;
    case "string":
      return "a string";
    case "nil":
      return "NIL";
    case "list":
      return "a list";
  }
}

/**
 * A cursor over a command's (or a list's) arguments. Each reader consumes one token and
 * throws ImapProtocolError (BAD) when the token is not of the expected kind; `what` names the
 * argument in the error text ("Expected mailbox name, got a list").
 */
export class Args {
  readonly #tokens: readonly Token[];
  readonly #tag: string | null;
  #index = 0;

  constructor(tokens: readonly Token[], tag: string | null = null) {
    this.#tokens = tokens;
    this.#tag = tag;
  }

  #fail(text: string): never {
    throw new ImapProtocolError("BAD", text, { tag: this.#tag });
  }

  #expected(what: string): never {
    this.#fail(`Expected ${what}, got ${describe(this.#tokens[this.#index])}`);
  }

  peek(): Token | undefined {
    return this.#tokens[this.#index];
  }

  /** The next token's atom value, upper-cased, when it is an atom (or NIL); null otherwise. */
  peekAtom(): string | null {
    const token = this.peek();
    if (token?.type === "atom") return token.value.toUpperCase();
    if (token?.type === "nil") return "NIL";
    return null;
  }

  remaining(): number {
    return this.#tokens.length - this.#index;
  }

  /** Consumes and returns the next token, whatever it is. */
  next(what = "an argument"): Token {
    const token = this.#tokens[this.#index];
    if (token === undefined) this.#expected(what);
    this.#index++;
    return token;
  }

  /** An atom, as sent (NIL counts as the atom "NIL"). */
  atom(what = "an atom"): string {
    const token = this.peek();
    if (token?.type === "atom") {
      this.#index++;
      return token.value;
    }
    if (token?.type === "nil") {
      this.#index++;
      return token.raw ?? "NIL";
    }
    this.#expected(what);
  }

  /** astring = 1*ASTRING-CHAR / string. */
  astring(what = "an astring"): Buffer {
    const token = this.peek();
    if (token?.type === "string") {
      this.#index++;
      return token.value;
    }
    if (token?.type === "atom" || token?.type === "nil") {
      const text = token.type === "atom" ? token.value : (token.raw ?? "NIL");
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (!isAtomChar(c) && c !== RBRACKET) this.#fail(`Invalid character in ${what === "an astring" ? "astring" : what}: "${text}"`);
      }
      this.#index++;
      return Buffer.from(text, "latin1");
    }
    this.#expected(what);
  }

  /** An astring as UTF-8 text (RFC 9051 mailbox names, user names). */
  astringText(what = "an astring"): string {
    const bytes = this.astring(what);
    try {
      return decoder.decode(bytes);
    } catch {
      this.#fail(`Invalid UTF-8 in ${what === "an astring" ? "astring" : what}`);
    }
  }

  /**
   * list-mailbox = 1*list-char / string: an astring that may also hold the wildcards `%`
   * and `*` (LIST and LSUB patterns).
   */
  listMailbox(what = "a mailbox pattern"): Buffer {
    const token = this.peek();
    if (token?.type === "string") {
      this.#index++;
      return token.value;
    }
    if (token?.type === "atom" || token?.type === "nil") {
      const text = token.type === "atom" ? token.value : (token.raw ?? "NIL");
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (!isAtomChar(c) && c !== RBRACKET && c !== 0x25 && c !== 0x2a) this.#fail(`Invalid character in ${what}: "${text}"`);
      }
      this.#index++;
      return Buffer.from(text, "latin1");
    }
    this.#expected(what);
  }

  /** A quoted string or literal (no atom). */
  string(what = "a string"): Buffer {
    const token = this.peek();
    if (token?.type !== "string") this.#expected(what);
    this.#index++;
    return token.value;
  }

  /** nstring = string / NIL. */
  nstring(what = "a string or NIL"): Buffer | null {
    const token = this.peek();
    if (token?.type === "nil") {
      this.#index++;
      return null;
    }
    if (token?.type === "string") {
      this.#index++;
      return token.value;
    }
    this.#expected(what);
  }

  /** A parenthesised list's items. */
  list(what = "a parenthesized list"): Token[] {
    const token = this.peek();
    if (token?.type !== "list") this.#expected(what);
    this.#index++;
    return token.items;
  }

  /** A list's items when the next token is a list; null (nothing consumed) otherwise. */
  optionalList(): Token[] | null {
    const token = this.peek();
    if (token?.type !== "list") return null;
    this.#index++;
    return token.items;
  }

  sequenceSet(what = "a sequence set"): SequenceSet {
    const token = this.peek();
    if (token?.type !== "atom") this.#expected(what);
    let set: SequenceSet;
    try {
      set = parseSequenceSet(token.value);
    } catch (error) {
      if (error instanceof ImapProtocolError) this.#fail(error.message);
      throw error;
    }
    this.#index++;
    return set;
  }

  /** number = 1*DIGIT, a 32-bit unsigned value. */
  number(what = "a number"): number {
    const token = this.peek();
    if (token?.type !== "atom" || !/^[0-9]{1,10}$/.test(token.value) || Number(token.value) > MAX_NUMBER) this.#expected(what);
    this.#index++;
    return Number(token.value);
  }

  /** nz-number: a number that is not zero. */
  nzNumber(what = "a non-zero number"): number {
    const token = this.peek();
    if (token?.type !== "atom" || !/^[0-9]{1,10}$/.test(token.value) || Number(token.value) === 0 || Number(token.value) > MAX_NUMBER) {
      this.#expected(what);
    }
    this.#index++;
    return Number(token.value);
  }

  /** number64 (up to 2^63-1): a number when it is a safe integer, a bigint otherwise. */
  number64(what = "a number"): bigint | number {
    const token = this.peek();
    if (token?.type !== "atom" || !/^[0-9]{1,19}$/.test(token.value)) this.#expected(what);
    const big = BigInt(token.value);
    if (big > MAX_NUMBER64) this.#expected(what);
    this.#index++;
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  /** Throws unless every token was consumed. */
  end(): void {
    if (this.#index < this.#tokens.length) this.#fail(`Unexpected extra argument ${describe(this.#tokens[this.#index])}`);
  }
}
