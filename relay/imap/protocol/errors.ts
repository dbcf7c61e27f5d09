/**
 * An IMAP failure as a value with protocol meaning: the tagged status to answer with (NO for
 * "understood but refused", BAD for "not understood / not allowed here"), an optional
 * response code (RFC 9051 §7.1, e.g. TOOBIG, NONEXISTENT, AUTHENTICATIONFAILED, CANNOT) and,
 * when it could be read, the tag of the command it answers.
 *
 * Command handlers throw these; the dispatcher turns them into `tag NO [CODE] text` (or
 * `* BAD text` when the tag is unknown).
 */

export type ImapErrorStatus = "NO" | "BAD";

export interface ImapProtocolErrorOptions {
  code?: string | null | undefined;
  tag?: string | null | undefined;
  cause?: unknown;
}

export class ImapProtocolError extends Error {
  readonly status: ImapErrorStatus;
  readonly code: string | null;
  /** The tag of the command, when known. Mutable so a dispatcher can fill it in. */
  tag: string | null;

  constructor(status: ImapErrorStatus, text: string, options: ImapProtocolErrorOptions = {}) {
    super(text, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ImapProtocolError";
    this.status = status;
    this.code = options.code ?? null;
    this.tag = options.tag ?? null;
  }

  /** The human-readable text of the response (the Error message). */
  get text(): string {
    return this.message;
  }

  /** This error with its tag set, unless it already has one. */
  withTag(tag: string | null): this {
    if (this.tag === null) this.tag = tag;
    return this;
  }
}

/** A BAD error: the command could not be parsed or is not valid here. */
export function bad(text: string, code: string | null = null, tag: string | null = null): ImapProtocolError {
  return new ImapProtocolError("BAD", text, { code, tag });
}

/** A NO error: the command was understood but failed. */
export function no(text: string, code: string | null = null, tag: string | null = null): ImapProtocolError {
  return new ImapProtocolError("NO", text, { code, tag });
}
