/**
 * The relay ⇄ edge contract (DESIGN.md §3): every request and response body of `/relay/v1`,
 * as zod schemas both sides import. Changing a shape here breaks the type check of the
 * worker and the relay at once, which is the point.
 *
 * Authentication: every call carries `Authorization: Bearer <RELAY_KEY>`. Account-scoped
 * calls name the principal in the path (`/relay/v1/accounts/:accountId/...`); the edge
 * scopes every query by that account, so a mailbox or message id of another account is
 * simply not found.
 *
 * Endpoints (all JSON unless said otherwise):
 *   PUT  /relay/v1/blobs/:sha256                 raw message octets → BlobStored       (content-addressed, idempotent)
 *   POST /relay/v1/deliveries                    DeliveryRequest → DeliveryResult      (idempotent by idempotencyKey)
 *   POST /relay/v1/recipients/check              RecipientCheckRequest → RecipientCheckResult
 *   POST /relay/v1/auth                          AuthRequest → AuthResult (401 auth_failed)
 *   GET  /relay/v1/accounts/:a/mailboxes         → MailboxList
 *   POST /relay/v1/accounts/:a/mailboxes/select  SelectRequest → MailboxSnapshot (404 no_such_mailbox)
 *   POST /relay/v1/accounts/:a/mailboxes/:m/messages/fetch   FetchRequest → FetchResult
 *   GET  /relay/v1/accounts/:a/mailboxes/:m/messages/:uid/raw   → octets (honours `Range: bytes=a-b`)
 *   POST /relay/v1/accounts/:a/mailboxes/:m/messages/flags   StoreFlagsRequest → StoreFlagsResult
 *
 * fetch, flags and search also answer the changes feed (`changes`) when the request carries
 * `sinceModseq`, so an IMAP command costs one round trip (see PiggybackSince in contract/mailboxes.ts).
 *
 * Errors always have the shape of {@link ApiError}.
 *
 * The schemas live in contract/, one file per API area; everything is imported from here.
 */
export * from "./contract/base.ts";
export * from "./contract/deliveries.ts";
export * from "./contract/recipients.ts";
export * from "./contract/mailboxes.ts";
export * from "./contract/mailbox-operations.ts";
export * from "./contract/admin.ts";
export * from "./contract/outbound.ts";
export * from "./contract/dkim.ts";
export * from "./contract/addressing.ts";
export * from "./contract/dns.ts";
export * from "./contract/queue.ts";
export * from "./contract/reports.ts";
