/**
 * Incremental, bounded IMAP command reader (RFC 9051 §2.2, §4.3; RFC 7888 LITERAL+/LITERAL-;
 * RFC 3516 literal8).
 *
 * Fed raw socket chunks, it cuts the byte stream into whole commands: a command is one line,
 * or several when a line ends in a literal announcement (`{n}`, `{n+}`, `~{n}`, `~{n+}`), in
 * which case the next n octets are taken verbatim (they may hold CRLF or `{5}`-looking text)
 * and the command continues on the line after them. A command is delivered as its bytes with
 * the literal octets inline and the final CRLF stripped, ready for `parseCommand`.
 *
 * Bounds: no line may exceed `maxLineLength` (CRLF not counted), no literal `maxLiteralSize`,
 * no command `maxCommandSize` (all its lines, CRLFs and literals). Nothing beyond those bounds
 * is ever buffered. Violations are reported as "error" events:
 * - an over-long line or command: the rest of the command is skipped (including the octets of
 *   any acceptable non-synchronising literal it announces) and one non-fatal error is
 *   reported when it ends; the reader then resynchronises on the next line;
 * - a synchronising literal that is too big: a non-fatal TOOBIG error; the client waits for a
 *   continuation that never comes, sees the tagged BAD and abandons the command, so the next
 *   line is a new command;
 * - a non-synchronising literal above `maxLiteralSize`: the client is already sending the
 *   octets and skipping an arbitrary amount is not an option, so the error is fatal
 *   (RFC 7888 §4 allows closing the connection) and the reader stops.
 *
 * Bare LF is accepted as a line end; CRLF is what goes into a multi-line command's bytes.
 * Empty lines between commands are ignored.
 *
 * Two ways to drive it:
 * - `push(chunk)` returns every event the buffered bytes make. Simple, but the whole chunk is
 *   cut with the mode in force at the time of the call;
 * - `feed(chunk)` then `next()` until it returns null, acting on each event before asking for
 *   the next. Use this when a command changes how what follows must be read (IDLE,
 *   AUTHENTICATE → `setLineMode`, STARTTLS → `discardBuffered`), so bytes pipelined behind
 *   such a command are read under the right mode.
 */

export interface ReaderLimits {
  maxLineLength: number;
  maxLiteralSize: number;
  maxCommandSize: number;
  /**
   * Largest non-synchronising literal accepted (4096 for LITERAL-, RFC 7888 §5). Defaults to
   * `maxLiteralSize` (LITERAL+). One above this but within `maxLiteralSize` is skipped and
   * answered with a non-fatal TOOBIG; one above `maxLiteralSize` is fatal.
   */
  maxNonSyncLiteralSize?: number | undefined;
}

export type ReaderErrorCode = "TOOBIG" | "LIMIT";

export type ReaderEvent =
  | { kind: "command"; bytes: Buffer }
  | { kind: "continue"; literalSize: number }
  | { kind: "line"; bytes: Buffer }
  | { kind: "error"; tag: string | null; code: ReaderErrorCode | null; text: string; fatal: boolean };

type State = "line" | "literal" | "discardLine" | "discardLiteral" | "closed";

interface PendingError {
  code: ReaderErrorCode | null;
  text: string;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const CRLF = Buffer.from("\r\n");
const EMPTY = Buffer.alloc(0);
/** Enough of a line's end to hold the longest literal announcement we care to read. */
const TAIL_KEEP = 32;

interface LiteralAnnouncement {
  size: number; // Infinity when absurdly large
  nonSync: boolean;
}

function literalAtEnd(line: Buffer): LiteralAnnouncement | null {
  let i = line.length - 1;
  if (i < 0 || line[i] !== 0x7d /* } */) return null;
  i--;
  const nonSync = line[i] === 0x2b; /* + */
  if (nonSync) i--;
  const digitsEnd = i + 1;
  while (i >= 0 && (line[i] as number) >= 0x30 && (line[i] as number) <= 0x39) i--;
  const digits = digitsEnd - (i + 1);
  if (digits === 0) return null;
  // A skipped line keeps only its tail: a run of digits reaching its start is a huge size.
  if (i < 0 && digits >= 20) return { size: Infinity, nonSync };
  if (line[i] !== 0x7b /* { */) return null;
  const size = digits > 15 ? Infinity : Number(line.toString("latin1", i + 1, digitsEnd));
  return { size, nonSync };
}

/** tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 §9). */
export function isValidTag(tag: string): boolean {
  return /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]+$/.test(tag);
}

/** The tag at the start of a command's first line, when it is a valid one. */
function tagOf(lineStart: Buffer): string | null {
  const limit = Math.min(lineStart.length, 256);
  const end = lineStart.indexOf(SP);
  if (end < 0 || end > limit) return null;
  const tag = lineStart.subarray(0, end).toString("latin1");
  return isValidTag(tag) ? tag : null;
}

export class CommandReader {
  readonly #limits: Required<ReaderLimits>;
  #input: Buffer = EMPTY;
  #pos = 0;
  /** How far past #pos the current line has already been searched for LF. */
  #scanned = 0;
  #state: State = "line";
  #lineMode = false;

  // The command being assembled.
  #parts: Buffer[] = [];
  #size = 0;
  #tag: string | null = null;
  #literalRemaining = 0;

  // While skipping a command.
  #pending: PendingError | null = null;
  #tail: Buffer = EMPTY;
  #discardingRawLine = false;

  constructor(limits: ReaderLimits) {
    this.#limits = { ...limits, maxNonSyncLiteralSize: limits.maxNonSyncLiteralSize ?? limits.maxLiteralSize };
  }

  /** Appends a chunk and returns every event the buffered bytes now make. */
  push(chunk: Buffer): ReaderEvent[] {
    this.feed(chunk);
    const events: ReaderEvent[] = [];
    for (let event = this.next(); event !== null; event = this.next()) events.push(event);
    return events;
  }

  /** Appends a chunk without reading it; read with {@link next}. */
  feed(chunk: Buffer): void {
    if (this.#state === "closed" || chunk.length === 0) return;
    if (this.#pos >= this.#input.length) this.#input = chunk;
    else this.#input = Buffer.concat([this.#input.subarray(this.#pos), chunk]);
    this.#pos = 0;
  }

  /** Bytes fed but not yet consumed (for back-pressure when driving with feed/next). */
  get bufferedBytes(): number {
    return this.#input.length - this.#pos;
  }

  /** True once a fatal error was reported: nothing more will be read. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /** Subsequent lines are delivered raw as "line" events (AUTHENTICATE responses, IDLE's DONE). */
  setLineMode(on: boolean): void {
    this.#lineMode = on;
  }

  /**
   * Drops every byte received but not yet read, and any partly read command: after STARTTLS,
   * nothing sent before the TLS handshake may be taken as a command (RFC 9051 §6.2.1).
   */
  discardBuffered(): void {
    if (this.#state === "closed") return;
    this.#input = EMPTY;
    this.#pos = 0;
    this.#resetCommand();
  }

  /** The next event from the buffered bytes, or null when more input is needed. */
  next(): ReaderEvent | null {
    for (;;) {
      switch (this.#state) {
        case "closed":
          return null;
        case "literal":
        case "discardLiteral": {
          if (this.#literalRemaining > 0) {
            const available = this.#input.length - this.#pos;
            if (available === 0) return null;
            const take = Math.min(available, this.#literalRemaining);
            if (this.#state === "literal") this.#parts.push(this.#input.subarray(this.#pos, this.#pos + take));
            this.#pos += take;
            this.#literalRemaining -= take;
          }
          if (this.#literalRemaining === 0) {
            if (this.#state === "discardLiteral") {
              this.#state = "discardLine";
              this.#tail = EMPTY;
            } else {
              this.#state = "line";
            }
          }
          if (this.#pos >= this.#input.length) this.#release();
          continue;
        }
        case "discardLine": {
          const event = this.#stepDiscardLine();
          if (event === "more") return null;
          if (event !== "continue") return event;
          continue;
        }
        case "line": {
          const event = this.#stepLine();
          if (event === "more") return null;
          if (event !== "continue") return event;
          continue;
        }
      }
    }
  }

  #release(): void {
    this.#input = EMPTY;
    this.#pos = 0;
    this.#scanned = 0;
  }

  #resetCommand(): void {
    this.#state = "line";
    this.#parts = [];
    this.#size = 0;
    this.#tag = null;
    this.#literalRemaining = 0;
    this.#pending = null;
    this.#tail = EMPTY;
    this.#discardingRawLine = false;
    this.#scanned = 0;
  }

  #fatal(text: string): ReaderEvent {
    const event: ReaderEvent = { kind: "error", tag: this.#tag, code: "TOOBIG", text, fatal: true };
    this.#resetCommand();
    this.#state = "closed";
    this.#release();
    return event;
  }

  /** Starts skipping the rest of the current line (already consumed up to #pos). */
  #startDiscard(error: PendingError, tail: Buffer): void {
    this.#pending ??= error;
    this.#parts = [];
    this.#tail = Buffer.from(tail.subarray(Math.max(0, tail.length - TAIL_KEEP)));
    this.#state = "discardLine";
    this.#scanned = 0;
  }

  #stepLine(): ReaderEvent | "more" | "continue" {
    const input = this.#input;
    const start = this.#pos;
    const lf = input.indexOf(LF, start + this.#scanned);
    const betweenCommands = this.#parts.length === 0 && this.#size === 0;
    const raw = this.#lineMode && betweenCommands;
    const atCommandStart = !this.#lineMode && betweenCommands;
    const { maxLineLength, maxCommandSize } = this.#limits;

    if (lf < 0) {
      const length = input.length - start;
      // A trailing CR may still turn out to be half of the CRLF.
      const contentLength = input[input.length - 1] === CR ? length - 1 : length;
      const tooLong = contentLength > maxLineLength;
      const tooMuch = !raw && this.#size + contentLength > maxCommandSize;
      if (tooLong || tooMuch) {
        const partial = input.subarray(start);
        if (atCommandStart) this.#tag = tagOf(partial);
        this.#discardingRawLine = raw;
        this.#startDiscard(tooLong ? { code: "TOOBIG", text: "Line too long" } : { code: "LIMIT", text: "Command too long" }, partial);
        this.#release();
        return "more";
      }
      this.#scanned = length;
      return "more";
    }

    const contentEnd = lf > start && input[lf - 1] === CR ? lf - 1 : lf;
    const line = input.subarray(start, contentEnd);
    this.#pos = lf + 1;
    this.#scanned = 0;
    if (this.#pos >= input.length) this.#release();

    if (raw) {
      if (line.length > maxLineLength) return { kind: "error", tag: null, code: "TOOBIG", text: "Line too long", fatal: false };
      return { kind: "line", bytes: Buffer.from(line) };
    }
    if (atCommandStart) {
      if (line.length === 0) return "continue"; // stray empty line between commands
      this.#tag = tagOf(line);
    }
    if (line.length > maxLineLength || this.#size + line.length > maxCommandSize) {
      const error: PendingError =
        line.length > maxLineLength ? { code: "TOOBIG", text: "Line too long" } : { code: "LIMIT", text: "Command too long" };
      this.#startDiscard(error, line);
      return this.#endOfDiscardedLine();
    }

    this.#parts.push(line);
    this.#size += line.length;
    const literal = literalAtEnd(line);
    if (literal === null) {
      const bytes = Buffer.concat(this.#parts, this.#size);
      this.#resetCommand();
      return { kind: "command", bytes };
    }

    const { maxLiteralSize, maxNonSyncLiteralSize } = this.#limits;
    const fitsCommand = this.#size + CRLF.length + literal.size <= maxCommandSize;
    if (!literal.nonSync) {
      if (literal.size > maxLiteralSize || !fitsCommand) {
        const event: ReaderEvent = {
          kind: "error",
          tag: this.#tag,
          code: literal.size > maxLiteralSize ? "TOOBIG" : "LIMIT",
          text: literal.size > maxLiteralSize ? "Literal too big" : "Command too long",
          fatal: false,
        };
        this.#resetCommand();
        return event;
      }
    } else {
      if (literal.size > maxLiteralSize) return this.#fatal("Non-synchronizing literal too big");
      if (literal.size > maxNonSyncLiteralSize || !fitsCommand) {
        this.#startDiscard(
          literal.size > maxNonSyncLiteralSize
            ? { code: "TOOBIG", text: "Non-synchronizing literal too big" }
            : { code: "LIMIT", text: "Command too long" },
          EMPTY,
        );
        this.#literalRemaining = literal.size;
        this.#state = "discardLiteral";
        return "continue";
      }
    }
    this.#parts.push(CRLF);
    this.#size += CRLF.length + literal.size;
    this.#literalRemaining = literal.size;
    this.#state = "literal";
    if (!literal.nonSync) return { kind: "continue", literalSize: literal.size };
    return "continue";
  }

  #stepDiscardLine(): ReaderEvent | "more" | "continue" {
    const input = this.#input;
    const start = this.#pos;
    const lf = input.indexOf(LF, start);
    if (lf < 0) {
      const rest = input.subarray(Math.max(start, input.length - TAIL_KEEP));
      this.#tail = Buffer.concat([this.#tail, rest]);
      this.#tail = Buffer.from(this.#tail.subarray(Math.max(0, this.#tail.length - TAIL_KEEP)));
      this.#release();
      return "more";
    }
    const contentEnd = lf > start && input[lf - 1] === CR ? lf - 1 : lf;
    const rest = input.subarray(Math.max(start, contentEnd - TAIL_KEEP), contentEnd);
    let tail = Buffer.concat([this.#tail, rest]);
    // A CR kept at the end of the tail from an earlier chunk belongs to this line's CRLF.
    if (contentEnd === start && lf === start && tail[tail.length - 1] === CR) tail = tail.subarray(0, tail.length - 1);
    this.#tail = tail;
    this.#pos = lf + 1;
    if (this.#pos >= input.length) this.#release();
    return this.#endOfDiscardedLine();
  }

  /** The skipped line is complete (its tail is in #tail): go on skipping, or report. */
  #endOfDiscardedLine(): ReaderEvent | "continue" {
    const pending = this.#pending ?? { code: null, text: "Invalid command" };
    if (this.#discardingRawLine) {
      this.#resetCommand();
      return { kind: "error", tag: null, code: pending.code, text: pending.text, fatal: false };
    }
    const literal = literalAtEnd(this.#tail);
    if (literal !== null && literal.nonSync) {
      // The client sends these octets regardless: skip them, then the rest of the command.
      if (literal.size > this.#limits.maxLiteralSize) return this.#fatal("Non-synchronizing literal too big");
      this.#literalRemaining = literal.size;
      this.#state = "discardLiteral";
      return "continue";
    }
    // No literal, or a synchronising one the client will wait for in vain: the command ends.
    const event: ReaderEvent = { kind: "error", tag: this.#tag, code: pending.code, text: pending.text, fatal: false };
    this.#resetCommand();
    return event;
  }
}
