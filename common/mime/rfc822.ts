/**
 * RFC 822/5322 and MIME tokenizer with Dovecot 2.3 semantics (lib-mail rfc822-parser).
 *
 * Works on binary strings (one char per octet, see bytes.ts). Every method follows the
 * Dovecot return convention so that the parsers built on top reproduce its recovery
 * behaviour on broken input exactly:
 *   -1  syntax error (or unterminated comment / quoted string)
 *    0  the end of the input was reached
 *    1  more input follows
 * Reading "the current octet" at the end of input yields 0, like the NUL terminator C
 * code relies on.
 */

/* Character classes: 1 = atext, 2 = alpha/digit/8-bit, 4 = atext that is a MIME tspecial. */
const ATEXT = new Uint8Array(256);
(() => {
  const one = "!#$%&'*+-^_`{|}~";
  for (const c of one) ATEXT[c.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) ATEXT[c] = 2;
  for (let c = 0x41; c <= 0x5a; c++) ATEXT[c] = 2;
  for (let c = 0x61; c <= 0x7a; c++) ATEXT[c] = 2;
  for (let c = 0x80; c <= 0xff; c++) ATEXT[c] = 2;
  ATEXT[0x2f] = 4; // '/'
  ATEXT[0x3d] = 4; // '='
  ATEXT[0x3f] = 4; // '?'
})();

export function isAtext(c: number): boolean {
  return c < 256 && ATEXT[c] !== 0;
}

/** A MIME token character (atext minus the MIME tspecials). */
export function isTokenChar(c: number): boolean {
  return c < 256 && ((ATEXT[c] ?? 0) & 3) !== 0;
}

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const DOT = 0x2e;

/** A growable string, standing in for Dovecot's string_t. */
export class Acc {
  v = "";
}

export class Rfc822Parser {
  readonly s: string;
  pos: number;
  readonly end: number;
  /** Text of the last comment skipped; null when comments are not tracked. */
  lastComment: string | null;

  constructor(s: string, trackComments = false) {
    this.s = s;
    this.pos = 0;
    this.end = s.length;
    this.lastComment = trackComments ? "" : null;
  }

  /** The current octet, or 0 at the end of input. */
  cur(): number {
    return this.pos < this.end ? this.s.charCodeAt(this.pos) : 0;
  }

  skipComment(): number {
    // at '('
    if (this.lastComment !== null) this.lastComment = "";
    let level = 1;
    let start = ++this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (c === LPAREN) {
        level++;
      } else if (c === RPAREN) {
        if (--level === 0) {
          if (this.lastComment !== null) this.lastComment += this.s.slice(start, this.pos);
          this.pos++;
          return this.pos < this.end ? 1 : 0;
        }
      } else if (c === BACKSLASH) {
        if (this.lastComment !== null) this.lastComment += this.s.slice(start, this.pos);
        start = this.pos + 1;
        this.pos++;
        if (this.pos >= this.end) return -1;
      }
    }
    return -1; // missing ')'
  }

  skipLwsp(): number {
    while (this.pos < this.end) {
      const c = this.s.charCodeAt(this.pos);
      if (c === SP || c === HT || c === CR || c === LF) {
        this.pos++;
        continue;
      }
      if (c !== LPAREN) break;
      if (this.skipComment() < 0) return -1;
    }
    return this.pos < this.end ? 1 : 0;
  }

  parseAtom(acc: Acc): number {
    if (this.pos >= this.end || !isAtext(this.cur())) return -1;
    const start = this.pos++;
    for (; this.pos < this.end; this.pos++) {
      if (isAtext(this.s.charCodeAt(this.pos))) continue;
      acc.v += this.s.slice(start, this.pos);
      return this.skipLwsp();
    }
    acc.v += this.s.slice(start, this.pos);
    return 0;
  }

  /** dot-atom, allowing LWSP and comments around the dots (RFC 822 compatibility). */
  parseDotAtom(acc: Acc): number {
    if (this.pos >= this.end || !isAtext(this.cur())) return -1;
    let start = this.pos++;
    while (this.pos < this.end) {
      if (isAtext(this.s.charCodeAt(this.pos))) {
        this.pos++;
        continue;
      }
      acc.v += this.s.slice(start, this.pos);
      let ret = this.skipLwsp();
      if (ret <= 0) return ret;
      if (this.cur() !== DOT) return 1;
      this.pos++;
      acc.v += ".";
      ret = this.skipLwsp();
      if (ret <= 0) return ret;
      start = this.pos;
    }
    acc.v += this.s.slice(start, this.pos);
    return 0;
  }

  parseMimeToken(acc: Acc): number {
    const start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (isTokenChar(c) || c === DOT) continue;
      acc.v += this.s.slice(start, this.pos);
      return this.skipLwsp();
    }
    acc.v += this.s.slice(start, this.pos);
    return 0;
  }

  /** quoted-string at '"': quoted-pairs unescaped, folding (CR)LF removed. */
  parseQuotedString(acc: Acc): number {
    this.pos++;
    let start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (c === DQUOTE) {
        acc.v += this.s.slice(start, this.pos);
        this.pos++;
        return this.skipLwsp();
      } else if (c === LF) {
        let len = this.pos - start;
        if (len > 0 && this.s.charCodeAt(this.pos - 1) === CR) len--;
        acc.v += this.s.substr(start, len);
        start = this.pos + 1;
      } else if (c === BACKSLASH) {
        this.pos++;
        if (this.pos >= this.end) return -1;
        acc.v += this.s.slice(start, this.pos - 1);
        start = this.pos;
      }
    }
    return -1; // missing '"'
  }

  private parseAtomOrDot(acc: Acc): number {
    const start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (isAtext(c) || c === DOT) continue;
      acc.v += this.s.slice(start, this.pos);
      return this.skipLwsp();
    }
    acc.v += this.s.slice(start, this.pos);
    return 0;
  }

  /** phrase = 1*word / obs-phrase; words are joined with single spaces. */
  parsePhrase(acc: Acc): number {
    if (this.pos >= this.end) return 0;
    if (this.cur() === DOT) return -1;
    for (;;) {
      const ret = this.cur() === DQUOTE ? this.parseQuotedString(acc) : this.parseAtomOrDot(acc);
      if (ret <= 0) return ret;
      const c = this.cur();
      if (!isAtext(c) && c !== DQUOTE && c !== DOT) break;
      acc.v += " ";
    }
    return this.skipLwsp();
  }

  private parseDomainLiteral(acc: Acc): number {
    const start = this.pos;
    for (; this.pos < this.end; this.pos++) {
      const c = this.s.charCodeAt(this.pos);
      if (c === BACKSLASH) {
        this.pos++;
        if (this.pos >= this.end) break;
      } else if (c === 0x5d) {
        this.pos++;
        acc.v += this.s.slice(start, this.pos);
        return this.skipLwsp();
      }
    }
    return -1; // missing ']'
  }

  /** domain at '@'. */
  parseDomain(acc: Acc): number {
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    if (this.cur() === 0x5b) return this.parseDomainLiteral(acc);
    return this.parseDotAtom(acc);
  }

  /** type "/" subtype; `acc` receives whatever could be read, even on error. */
  parseContentType(acc: Acc): number {
    if (this.skipLwsp() <= 0) return -1;
    if (this.parseMimeToken(acc) <= 0) return -1;
    if (this.cur() !== 0x2f) return -1;
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    acc.v += "/";
    return this.parseMimeToken(acc);
  }

  /**
   * One `; attribute=value` parameter. Returns 0 at the end, -1 on a syntax error
   * (the caller decides how to recover), 1 with key/value filled in.
   */
  parseContentParam(out: { key: string; value: string }): number {
    out.key = "";
    out.value = "";
    if (this.pos >= this.end) return 0;
    if (this.cur() !== 0x3b) return -1;
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    const key = new Acc();
    if (this.parseMimeToken(key) <= 0) return -1;
    if (this.cur() !== 0x3d) return -1;
    this.pos++;
    const value = new Acc();
    let ret = this.skipLwsp();
    if (ret <= 0) {
      /* broken / no value */
    } else if (this.cur() === DQUOTE) {
      ret = this.parseQuotedString(value);
    } else if (this.cur() === 0x3d) {
      /* workaround for broken input: name==?utf-8?b?...?= */
      while (this.pos < this.end) {
        const c = this.s.charCodeAt(this.pos);
        if (c === 0x3b || c === SP || c === HT || c === CR || c === LF) break;
        value.v += this.s[this.pos];
        this.pos++;
      }
    } else {
      ret = this.parseMimeToken(value);
    }
    out.key = key.v;
    out.value = value.v;
    return ret < 0 ? -1 : 1;
  }
}
