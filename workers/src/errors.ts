/**
 * Errors as values: every failure the edge reports has the contract's ApiError shape, with one
 * HTTP status, one SMTP reply and one IMAP response code per error code, decided here only.
 *
 * Callers may rely on: throwing `apiError(code)` anywhere in a request ends it with that error;
 * anything else thrown becomes `internal` (500, temporary) whose message is generic — the details
 * go to console.error only, never to the client. `parseBody` turns invalid JSON or a schema
 * violation into 400 bad_request with a readable reason.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { ApiError, ErrorCode } from "../../common/contract.ts";

interface ErrorSpec {
  status: ContentfulStatusCode;
  temporary: boolean;
  smtp?: { code: number; enhanced: string };
  imap?: string;
  message: string;
}

const TRY_LATER = { code: 451, enhanced: "4.3.0" };

const SPECS: Record<ErrorCode, ErrorSpec> = {
  bad_request: { status: 400, temporary: false, smtp: { code: 554, enhanced: "5.6.0" }, imap: "CLIENTBUG", message: "Bad request" },
  // A rejected relay key is a configuration fault of ours, not the sender's: mail must be retried, not bounced.
  unauthorized: { status: 401, temporary: true, smtp: TRY_LATER, imap: "UNAVAILABLE", message: "Unauthorized" },
  auth_failed: {
    status: 401,
    temporary: false,
    smtp: { code: 535, enhanced: "5.7.8" },
    imap: "AUTHENTICATIONFAILED",
    message: "Authentication failed",
  },
  not_found: { status: 404, temporary: false, imap: "NONEXISTENT", message: "Not found" },
  no_such_mailbox: { status: 404, temporary: false, imap: "NONEXISTENT", message: "No such mailbox" },
  unknown_recipient: {
    status: 422,
    temporary: false,
    smtp: { code: 550, enhanced: "5.1.1" },
    message: "Recipient address rejected: user unknown",
  },
  blob_missing: { status: 409, temporary: true, smtp: TRY_LATER, imap: "UNAVAILABLE", message: "Message data not stored yet" },
  conflict: { status: 409, temporary: false, imap: "ALREADYEXISTS", message: "Already exists" },
  too_large: { status: 413, temporary: false, smtp: { code: 552, enhanced: "5.3.4" }, imap: "TOOBIG", message: "Message too large" },
  unavailable: { status: 503, temporary: true, smtp: TRY_LATER, imap: "UNAVAILABLE", message: "Service temporarily unavailable" },
  internal: { status: 500, temporary: true, smtp: TRY_LATER, imap: "SERVERBUG", message: "Internal error, try again later" },
  already_exists: { status: 409, temporary: false, imap: "ALREADYEXISTS", message: "Mailbox already exists" },
  cannot: { status: 400, temporary: false, imap: "CANNOT", message: "Operation not permitted" },
  try_create: { status: 404, temporary: false, imap: "TRYCREATE", message: "Mailbox does not exist" },
  rate_limited: { status: 429, temporary: true, smtp: { code: 454, enhanced: "4.7.0" }, imap: "UNAVAILABLE", message: "Too many failed logins, try again later" },
  over_quota: {
    status: 422,
    temporary: true,
    smtp: { code: 452, enhanced: "4.2.2" },
    imap: "OVERQUOTA",
    message: "Quota exceeded",
  },
};

/** An ApiError on its way out. Thrown by store and route code; rendered by {@link errorResponse}. */
export class ApiException extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  override readonly message: string;

  constructor(code: ErrorCode, message?: string, status?: ContentfulStatusCode) {
    const spec = SPECS[code];
    super(message ?? spec.message);
    this.code = code;
    this.status = status ?? spec.status;
    this.message = message ?? spec.message;
  }

  toBody(): ApiError {
    const spec = SPECS[this.code];
    return {
      error: {
        code: this.code,
        temporary: spec.temporary,
        ...(spec.smtp ? { smtp: spec.smtp } : {}),
        ...(spec.imap ? { imap: spec.imap } : {}),
        message: this.message,
      },
    };
  }
}

/**
 * `message` reaches the client (and through the relay, the SMTP/IMAP peer): keep it free of
 * internals. `status` overrides the code's usual status where an endpoint documents another.
 */
export function apiError(code: ErrorCode, message?: string, status?: ContentfulStatusCode): ApiException {
  return new ApiException(code, message, status);
}

/** The one place an exception becomes a response; unknown exceptions are logged and hidden. */
export function errorResponse(err: unknown): Response {
  const e = err instanceof ApiException ? err : (console.error("edge: unhandled error", err), apiError("internal"));
  return Response.json(e.toBody(), { status: e.status });
}

/** Reads and validates a JSON body; failures are 400 bad_request naming the offending fields. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw apiError("bad_request", "Request body is not valid JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
    throw apiError("bad_request", `Invalid request: ${reasons.slice(0, 5).join("; ")}`);
  }
  return parsed.data;
}

/** Path parameters that name rows are positive integers; anything else names nothing. */
export function idParam(value: string | undefined, notFound: ErrorCode = "not_found"): number {
  const n = value !== undefined && /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw apiError(notFound);
  return n;
}
