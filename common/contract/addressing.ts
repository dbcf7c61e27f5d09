/** Domain settings, aliases and stored deliveries (admin). Part of the relay ⇄ edge contract: see ../contract.ts. */
import { z } from "zod";
import { Domain, MtaStsSettings } from "./admin.ts";
import { EmailAddress, HostName, IpAddress } from "./base.ts";
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
// `<reportLocalPart>@<domain>` is the report address (contract/reports.ts): it is resolved before
// accounts and aliases, and what arrives there is parsed as a DMARC or TLS-RPT report, not filed.
//
// MTA-STS (RFC 8461) and DNS: `mtaSts` in an update sets the published policy (null: none);
// its `mx` left out means "follow mxHosts". The policy id is derived from the policy text, so it
// changes exactly when the text does (Domain.mtaSts.policyId). New domains publish a `testing`
// policy following mxHosts unless created with `mtaSts: null`.

export const DomainSettings = z.object({
  plusDelimiter: z.string().max(5).regex(/^[^@\s]*$/).default("+"),
  /** Account that receives mail for unknown local parts; null: unknown users get 550 5.1.1. */
  catchAll: EmailAddress.nullable().default(null),
  /** This domain mirrors another of ours (`user@this` → `user@aliasOf`); null: it has its own users. */
  aliasOf: z.string().max(253).nullable().default(null),
  inbound: InboundPolicy.default(InboundPolicy.parse({})),
  /** The relay host names in MX preference order; the first is also the IMAP/submission host. Default `mail.<domain>`. */
  mxHosts: z.array(z.string()).min(1).max(10),
  /** Public addresses of the relays, for SPF `ip4:`/`ip6:`; empty: SPF says `mx`. */
  relayIps: z.array(z.string()).max(20).default([]),
  /** Local part of the report address (DMARC and TLS-RPT `rua`). */
  reportLocalPart: z.string().default("reports"),
});
export type DomainSettings = z.infer<typeof DomainSettings>;
export const DomainSettingsUpdate = z.object({
  mxHosts: z.array(HostName).min(1).max(10).nullable().optional(),
  relayIps: z.array(IpAddress).max(20).nullable().optional(),
  reportLocalPart: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "not a local part")
    .optional(),
  mtaSts: MtaStsSettings.nullable().optional(),
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
