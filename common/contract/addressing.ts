/** Domain settings, aliases and stored deliveries (admin). Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import { Domain } from "./admin.ts";
import { EmailAddress } from "./base.ts";
import { InboundAuthentication } from "./deliveries.ts";
import { InboundAction, InboundPolicy } from "./recipients.ts";

// ---- domain settings and aliases (admin) ----------------------------------------------
//
//   PATCH  /admin/v1/domains/:domain        DomainSettingsUpdate → DomainWithSettings
//   GET    /admin/v1/domains/:domain        → DomainWithSettings
//   POST   /admin/v1/aliases                CreateAliasRequest → 201 Alias (409 if it exists or is an account)
//   GET    /admin/v1/aliases?domain=        → AliasList
//   DELETE /admin/v1/aliases/:address       → 204 (404 unknown)
//   GET    /admin/v1/deliveries/:deliveryId → StoredDelivery (envelope, authentication results)
//   GET    /admin/v1/deliveries?domain=&verdict=&dmarc=  → StoredDeliveryList (newest first, ≤ 500)
//
// Addresses are resolved at the edge at RCPT time, in this order: exact account; alias;
// `postmaster@` of any of our domains (→ the domain's postmaster alias or, without one, its
// oldest account); plus-addressing (`user+tag@` → `user@`, delimiter per domain, "" = off);
// domain alias (`user@mirror` → `user@target`); catch-all. Changes apply to the next RCPT.

export const DomainSettings = z.object({
  plusDelimiter: z.string().max(5).regex(/^[^@\s]*$/).default("+"),
  /** Account that receives mail for unknown local parts; null: unknown users get 550 5.1.1. */
  catchAll: EmailAddress.nullable().default(null),
  /** This domain mirrors another of ours (`user@this` → `user@aliasOf`); null: it has its own users. */
  aliasOf: z.string().max(253).nullable().default(null),
  inbound: InboundPolicy.default(InboundPolicy.parse({})),
});
export type DomainSettings = z.infer<typeof DomainSettings>;
export const DomainSettingsUpdate = z.object({
  plusDelimiter: DomainSettings.shape.plusDelimiter.unwrap().optional(),
  catchAll: EmailAddress.nullable().optional(),
  aliasOf: z.string().max(253).nullable().optional(),
  // Spelled out: zod's partial() would fill every omitted check with its default.
  inbound: z
    .object({
      dmarcReject: InboundAction.optional(),
      dmarcQuarantine: InboundAction.optional(),
      spfFail: InboundAction.optional(),
      spfSoftfail: InboundAction.optional(),
      dkimFail: InboundAction.optional(),
      dnsbl: InboundAction.optional(),
    })
    .optional(),
});
export type DomainSettingsUpdate = z.input<typeof DomainSettingsUpdate>;
export const DomainWithSettings = Domain.extend({ settings: DomainSettings });
export type DomainWithSettings = z.infer<typeof DomainWithSettings>;

export const CreateAliasRequest = z.object({
  address: EmailAddress,
  /** Accounts of ours or external addresses (forwarded through the outbound queue with SRS). */
  targets: z.array(EmailAddress).min(1).max(100),
});
export type CreateAliasRequest = z.input<typeof CreateAliasRequest>;
export const Alias = z.object({ address: z.string(), targets: z.array(z.string()), createdAt: z.number().int() });
export type Alias = z.infer<typeof Alias>;
export const AliasList = z.object({ aliases: z.array(Alias) });

export const StoredDelivery = z.object({
  deliveryId: z.string(),
  mailFrom: z.string(),
  recipients: z.array(z.string()),
  authentication: InboundAuthentication.nullable(),
  /** Where each copy went (account address and mailbox name), and the external targets queued. */
  copies: z.array(z.object({ address: z.string(), mailbox: z.string() })),
  forwarded: z.array(z.string()),
  createdAt: z.number().int(),
});
export type StoredDelivery = z.infer<typeof StoredDelivery>;
export const StoredDeliveryList = z.object({ deliveries: z.array(StoredDelivery) });
