/** Recipient checks at RCPT time (with the recipient domain's inbound policy) and authentication of users. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import { EmailAddress } from "./base.ts";

// ---- recipients and authentication ----------------------------------------------------

export const RecipientCheckRequest = z.object({ address: EmailAddress });
export type RecipientCheckRequest = z.input<typeof RecipientCheckRequest>;

/** What the MX does with mail that fails a check (maddy's reject / quarantine / ignore). */
export const InboundAction = z.enum(["reject", "quarantine", "ignore"]);
export type InboundAction = z.infer<typeof InboundAction>;

/**
 * A domain's actions for incoming mail, per check. "reject" answers 550 5.7.1 at the end of
 * DATA, "quarantine" stores the message in Junk, "ignore" only records the result. When one
 * message has recipients in several of our domains, the strictest action of theirs applies.
 */
export const InboundPolicy = z.object({
  /** DMARC fails and the author domain publishes p=reject (pct applied). */
  dmarcReject: InboundAction.default("reject"),
  /** DMARC fails and the author domain publishes p=quarantine (pct applied). */
  dmarcQuarantine: InboundAction.default("quarantine"),
  /** SPF "fail" (-all) for MAIL FROM (or HELO for the null sender). */
  spfFail: InboundAction.default("quarantine"),
  spfSoftfail: InboundAction.default("ignore"),
  /** Every DKIM signature present fails (a message with none is not a failure). */
  dkimFail: InboundAction.default("ignore"),
  /** The client IP is listed on one of the relay's DNSBL zones. */
  dnsbl: InboundAction.default("reject"),
});
export type InboundPolicy = z.infer<typeof InboundPolicy>;

export const RecipientCheckResult = z.discriminatedUnion("result", [
  /**
   * We take mail for this address: an account (after plus-address, domain-alias and catch-all
   * rewriting: `address` is the canonical one, `accountId` its account) or an alias (`accountId`
   * null). `policy` is the recipient domain's inbound policy.
   */
  z.object({ result: z.literal("local"), accountId: z.number().int().nullable(), address: z.string(), policy: InboundPolicy }),
  z.object({ result: z.literal("unknown_user") }),
  z.object({ result: z.literal("foreign_domain") }),
]);
export type RecipientCheckResult = z.infer<typeof RecipientCheckResult>;

export const AuthRequest = z.object({
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
  /** Client IP, for rate limiting and the audit log. */
  remoteAddress: z.string().max(64).optional(),
});
export type AuthRequest = z.input<typeof AuthRequest>;

export const AuthResult = z.object({ accountId: z.number().int(), address: z.string() });
export type AuthResult = z.infer<typeof AuthResult>;
