/** The admin API: domains, accounts, quotas, orphans, test-only faults. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import { EmailAddress, HostName, MxPattern } from "./base.ts";
import { SpecialUse } from "./mailboxes.ts";

// ---- admin API (Authorization: Bearer <ADMIN_TOKEN>) -----------------------------------

export const MtaStsMode = z.enum(["enforce", "testing", "none"]);

export const MtaStsSettings = z.object({
  mode: MtaStsMode.default("testing"),
  /** Left out: the policy's mx lines follow the domain's mxHosts. */
  mx: z.array(MxPattern).min(1).max(20).optional(),
  maxAge: z.number().int().min(86400).max(31557600).default(604800),
});
export type MtaStsSettings = z.input<typeof MtaStsSettings>;

export const CreateDomainRequest = z.object({
  name: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "not a domain name"),
  /** Left out: a `testing` policy following mxHosts; null: no policy. */
  mtaSts: MtaStsSettings.nullable().optional(),
  /** The relay host names (MX records, policy, autoconfig); default `mail.<name>`. */
  mxHosts: z.array(HostName).min(1).max(10).optional(),
});
export type CreateDomainRequest = z.input<typeof CreateDomainRequest>;

export const Domain = z.object({
  id: z.number().int(),
  name: z.string(),
  mtaSts: z.object({ mode: MtaStsMode, mx: z.array(z.string()), maxAge: z.number().int(), policyId: z.string() }).nullable(),
});
export type Domain = z.infer<typeof Domain>;

export const CreateAccountRequest = z.object({
  address: EmailAddress,
  password: z.string().min(8).max(1024),
});
export type CreateAccountRequest = z.input<typeof CreateAccountRequest>;

export const Account = z.object({
  id: z.number().int(),
  address: z.string(),
  domainId: z.number().int(),
  /** Storage limit in octets (null: none) and octets used; given by GET /admin/v1/accounts. */
  quotaBytes: z.number().int().nullable().optional(),
  usedBytes: z.number().int().optional(),
  mailboxes: z.array(z.object({ name: z.string(), role: SpecialUse.nullable() })).optional(),
});
export type Account = z.infer<typeof Account>;

// Accounts are named in paths by id or by (URL-encoded) address: /admin/v1/accounts/:account
//   PUT    /admin/v1/accounts/:account/password   SetPasswordRequest → 204 (cached logins at relays expire by their TTL)
//   DELETE /admin/v1/accounts/:account            → 204: the account, its mailboxes and messages (blobs are left to orphan collection)
//   PUT    /admin/v1/accounts/:account/quota      SetQuotaRequest → 204
//   DELETE /admin/v1/domains/:domain              → 204; 409 conflict while the domain has accounts or aliases or is mirrored

export const SetPasswordRequest = z.object({ password: z.string().min(8).max(1024) });
export type SetPasswordRequest = z.input<typeof SetPasswordRequest>;

/** PUT /admin/v1/accounts/:id/quota: the storage limit in octets, null for none. */
export const SetQuotaRequest = z.object({ storageBytes: z.number().int().min(0).nullable() });
export type SetQuotaRequest = z.input<typeof SetQuotaRequest>;

/** A blob in R2 that no message row references: garbage left by a delivery that failed before its D1 batch. */
export const OrphanBlob = z.object({ key: z.string(), size: z.number().int(), uploaded: z.string() });
export const OrphanBlobList = z.object({ orphans: z.array(OrphanBlob) });
export type OrphanBlobList = z.infer<typeof OrphanBlobList>;

/**
 * Test-only fault injection, honoured only when the worker runs with ALLOW_FAULT_INJECTION = "1"
 * (never in wrangler.toml): arms a named failure point for the next `count` requests that reach it.
 */
export const FaultPoint = z.enum(["deliveries.afterBlobCheck"]);
export const ArmFaultRequest = z.object({ point: FaultPoint, count: z.number().int().min(1).max(100).default(1) });
export type ArmFaultRequest = z.input<typeof ArmFaultRequest>;
