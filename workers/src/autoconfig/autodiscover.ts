/**
 * Microsoft Autodiscover, "plain old XML" flavour (MS-OXDSCLI): the request Outlook POSTs with the
 * user's address, and the `outlook/responseschema/2006a` answer that sets up an IMAP + SMTP
 * account. Exchange-specific parts (EXCH/EXPR protocols, redirects, ActiveSync) are not served.
 *
 * Callers may rely on: `parseAutodiscoverRequest` never throws; it accepts only Outlook's request
 * schema with one syntactically valid address and gives a reason otherwise (DTDs are refused by
 * xml.ts, so no entity tricks). The response depends only on its inputs and escapes every value.
 */
import { EmailAddress } from "../../../common/contract.ts";
import { loginNameFor, PORTS, type MailService } from "./settings.ts";
import { childElement, escapeXml, parseXml } from "./xml.ts";

export const REQUEST_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
export const RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/** The namespace of the outer <Autodiscover> element of every response. */
export const AUTODISCOVER_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

export type AutodiscoverRequest = { ok: true; emailAddress: string } | { ok: false; reason: string };

export function parseAutodiscoverRequest(body: string): AutodiscoverRequest {
  const doc = parseXml(body);
  if (!doc.ok) return { ok: false, reason: `Request is not well-formed XML: ${doc.reason}` };
  const root = doc.root;
  if (root.local !== "Autodiscover" || root.ns !== REQUEST_SCHEMA) {
    return { ok: false, reason: `Root element must be <Autodiscover xmlns="${REQUEST_SCHEMA}">` };
  }
  const request = childElement(root, "Request", REQUEST_SCHEMA);
  if (!request) return { ok: false, reason: "No <Request> element" };
  // Exchange ActiveSync clients ask for the mobilesync schema, which describes a server we are not.
  const accepted = childElement(request, "AcceptableResponseSchema", REQUEST_SCHEMA);
  if (accepted && accepted.text.trim() !== RESPONSE_SCHEMA) {
    return { ok: false, reason: `Only the response schema ${RESPONSE_SCHEMA} is served` };
  }
  const element = childElement(request, "EMailAddress", REQUEST_SCHEMA);
  if (!element) return { ok: false, reason: "No <EMailAddress> element" };
  const address = EmailAddress.safeParse(element.text);
  if (!address.success) return { ok: false, reason: "<EMailAddress> is not an email address" };
  return { ok: true, emailAddress: address.data };
}

/** The answer for `emailAddress` (already checked to be of `service.domain`). */
export function renderAutodiscoverResponse(service: MailService, emailAddress: string): string {
  const login = loginNameFor(service, emailAddress);
  const protocol = (type: "IMAP" | "SMTP", port: number, extra: string[] = []) =>
    [
      `      <Protocol>`,
      `        <Type>${type}</Type>`,
      `        <Server>${escapeXml(service.host)}</Server>`,
      `        <Port>${port}</Port>`,
      `        <DomainRequired>off</DomainRequired>`,
      `        <LoginName>${escapeXml(login)}</LoginName>`,
      // SPA is NTLM; our servers take the password over TLS instead.
      `        <SPA>off</SPA>`,
      `        <SSL>on</SSL>`,
      `        <AuthRequired>on</AuthRequired>`,
      ...extra.map((line) => `        ${line}`),
      `      </Protocol>`,
    ].join("\n");
  return [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<Autodiscover xmlns="${AUTODISCOVER_SCHEMA}">`,
    `  <Response xmlns="${RESPONSE_SCHEMA}">`,
    `    <User>`,
    `      <DisplayName>${escapeXml(emailAddress)}</DisplayName>`,
    `    </User>`,
    `    <Account>`,
    `      <AccountType>email</AccountType>`,
    `      <Action>settings</Action>`,
    protocol("IMAP", PORTS.imaps),
    // Submission needs its own login: not "POP before SMTP", and not only after receiving.
    protocol("SMTP", PORTS.submissions, ["<UsePOPAuth>off</UsePOPAuth>", "<SMTPLast>off</SMTPLast>"]),
    `    </Account>`,
    `  </Response>`,
    `</Autodiscover>`,
    ``,
  ].join("\n");
}
