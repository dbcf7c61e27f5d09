/**
 * A failed edge call, as a value with protocol meaning: the contract's error code, whether a
 * retry may succeed, and the SMTP/IMAP forms the edge suggested.
 */
import type { ErrorCode } from "../../common/contract.ts";

export class EdgeError extends Error {
  readonly code: ErrorCode;
  readonly temporary: boolean;
  readonly smtp: { code: number; enhanced: string } | undefined;
  readonly imap: string | undefined;
  readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    temporary: boolean,
    message: string,
    extra: { smtp?: { code: number; enhanced: string } | undefined; imap?: string | undefined; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = "EdgeError";
    this.code = code;
    this.temporary = temporary;
    this.smtp = extra.smtp;
    this.imap = extra.imap;
    this.status = extra.status;
  }
}
