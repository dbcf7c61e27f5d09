/** The admin API: domains, accounts, quotas, orphans, test-only faults. Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import { EmailAddress } from "./base.ts";
import { SpecialUse } from "./mailboxes.ts";

// ---- admin API (Authorization: Bearer <ADMIN_TOKEN>) -----------------------------------

export const MtaStsMode = z.enum(["enforce", "testing", "none"]);

export const CreateDomainRequest = z.object({
  name: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "not a domain name"),
  mtaSts: z
    .object({
      mode: MtaStsMode.default("testing"),
      mx: z.array(z.string().min(1).max(253)).min(1).max(20),
      maxAge: z.number().int().min(86400).max(31557600).default(604800),
    })
    .optional(),
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
  mailboxes: z.array(z.object({ name: z.string(), role: SpecialUse.nullable() })).optional(),
});
export type Account = z.infer<typeof Account>;

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
