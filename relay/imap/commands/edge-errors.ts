/**
 * Edge refusals that carry IMAP meaning, as the response codes RFC 5530 and RFC 9051 define:
 * a mailbox that exists already (ALREADYEXISTS), does not exist (NONEXISTENT), is the missing
 * target of APPEND/COPY/MOVE (TRYCREATE), an operation that can never succeed (CANNOT), a full
 * account (OVERQUOTA, a NO although the edge calls it temporary: retrying the same command
 * will not help until something is deleted) and a message too large (TOOBIG).
 *
 * Callers may rely on: anything else (unavailable edge, internal errors) is rethrown as it
 * was, for the connection's generic mapping.
 */
import { EdgeError } from "../../edge/errors.ts";
import type { ErrorCode } from "../../../common/contract.ts";
import { ImapProtocolError } from "../protocol/errors.ts";

type Mapped = "already_exists" | "no_such_mailbox" | "try_create" | "cannot" | "over_quota" | "too_large";

const MAPPING: Record<Mapped, { code: string; text: string }> = {
  already_exists: { code: "ALREADYEXISTS", text: "Mailbox already exists" },
  no_such_mailbox: { code: "NONEXISTENT", text: "Mailbox does not exist" },
  try_create: { code: "TRYCREATE", text: "Mailbox does not exist" },
  cannot: { code: "CANNOT", text: "Operation not permitted" },
  over_quota: { code: "OVERQUOTA", text: "Quota exceeded" },
  too_large: { code: "TOOBIG", text: "Message too large" },
};

export type EdgeErrorTexts = Partial<Record<Mapped, string>>;

function isMapped(code: ErrorCode): code is Mapped {
  return code in MAPPING;
}

export interface EdgeErrorOptions {
  /** Texts for the tagged NO, by edge code, instead of the generic ones above. */
  texts?: EdgeErrorTexts;
  /**
   * The mailbox named is the target of APPEND, COPY or MOVE: a missing one is TRYCREATE
   * (RFC 9051 §6.3.12), whichever of no_such_mailbox and try_create the edge chose.
   */
  target?: boolean;
}

/** The ImapProtocolError an EdgeError stands for; other errors unchanged. */
export function toImapError(err: unknown, options: EdgeErrorOptions = {}): unknown {
  if (!(err instanceof EdgeError) || !isMapped(err.code)) return err;
  const edgeCode = options.target && err.code === "no_such_mailbox" ? "try_create" : err.code;
  const { code, text } = MAPPING[edgeCode];
  return new ImapProtocolError("NO", options.texts?.[edgeCode] ?? text, { code, cause: err });
}

/** Awaits an edge call, turning its meaningful refusals into NO responses with their codes. */
export async function edgeCall<T>(call: Promise<T>, options: EdgeErrorOptions = {}): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw toImapError(err, options);
  }
}
