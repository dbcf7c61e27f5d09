/** API prefixes, the address and digest types every call uses, and the one error shape. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";

export const RELAY_API_PREFIX = "/relay/v1";
export const ADMIN_API_PREFIX = "/admin/v1";

/** Lower-case, trimmed addr-spec. Validation is deliberately loose: the SMTP layer already parsed it. */
export const EmailAddress = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@<>]+@[^\s@<>]+$/, "not an address")
  .transform((s) => s.toLowerCase());

/** A lower-case host or domain name of at least two labels (LDH, RFC 1123), no final dot. */
export const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
export const HostName = z.string().trim().toLowerCase().regex(HOST_NAME, "not a host name");
/** RFC 8461 §3.2 mx patterns: a host name, or `*.` and a host name. */
export const MxPattern = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/, "not an MTA-STS mx pattern");
export const IpAddress = z.union([z.ipv4(), z.ipv6()]);

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "not a sha-256 hex digest");

// ---- errors ---------------------------------------------------------------------------

export const ErrorCode = z.enum([
  "bad_request",
  "unauthorized",
  "auth_failed",
  "not_found",
  "no_such_mailbox",
  "unknown_recipient",
  "blob_missing",
  "conflict",
  "too_large",
  "unavailable",
  "internal",
  /** A mailbox of that name exists (IMAP ALREADYEXISTS). */
  "already_exists",
  /** The operation can never succeed as asked, e.g. DELETE INBOX (IMAP CANNOT). */
  "cannot",
  /** The target mailbox of APPEND/COPY/MOVE does not exist (IMAP TRYCREATE). */
  "try_create",
  /** The account's storage quota would be exceeded (IMAP OVERQUOTA, SMTP 452 4.2.2). */
  "over_quota",
  /** Too many failed logins lately: try again later (HTTP 429 with Retry-After). */
  "rate_limited",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiError = z.object({
  error: z.object({
    code: ErrorCode,
    /** True when retrying later may succeed (maps to SMTP 4xx, IMAP NO [UNAVAILABLE]). */
    temporary: z.boolean(),
    smtp: z.object({ code: z.number().int(), enhanced: z.string() }).optional(),
    imap: z.string().optional(),
    message: z.string(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;
