/**
 * Microsoft Autodiscover, "plain old XML" flavour (MS-OXDSCLI): the request Outlook POSTs with the
 * user's address, and the `outlook/responseschema/2006a` answer that sets up an IMAP + SMTP
 * account. Exchange-specific parts (EXCH/EXPR protocols, redirects, ActiveSync) are not served.
 *
 * Callers may rely on: `parseAutodiscoverRequest` never throws; it accepts only Outlook's request
 * schema with one syntactically valid address and gives a reason otherwise (read through
 * xml/untrusted-xml.ts: no DTDs, so no entity tricks). The response depends only on its inputs
 * and escapes every value.
 */
import { EmailAddress } from "../../../common/contract.ts";
import { loginNameFor, PORTS, type MailService } from "./settings.ts";
import { escapeXml, readUntrustedXml } from "../xml/untrusted-xml.ts";

export const REQUEST_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
export const RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/** The namespace of the outer <Autodiscover> element of every response. */
export const AUTODISCOVER_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

export type AutodiscoverRequest = { ok: true; emailAddress: string } | { ok: false; reason: string };

export function parseAutodiscoverRequest(body: string): AutodiscoverRequest {
  let tree: unknown;
  try {
    tree = readUntrustedXml(body, "Request", { ignoreAttributes: false, attributeNamePrefix: "@", parseTagValue: false, trimValues: true });
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const roots = Object.entries(tree as Record<string, unknown>);
  const [rootName, root] = roots[0] ?? ["", undefined];
  if (roots.length !== 1 || localName(rootName) !== "Autodiscover" || namespaceOf(rootName, root) !== REQUEST_SCHEMA) {
    return { ok: false, reason: `Root element must be <Autodiscover xmlns="${REQUEST_SCHEMA}">` };
  }
  const request = child(root, "Request");
  if (request === undefined) return { ok: false, reason: "No <Request> element" };
  // Exchange ActiveSync clients ask for the mobilesync schema, which describes a server we are not.
  const accepted = child(request, "AcceptableResponseSchema");
  if (accepted !== undefined && text(accepted) !== RESPONSE_SCHEMA) {
    return { ok: false, reason: `Only the response schema ${RESPONSE_SCHEMA} is served` };
  }
  const element = child(request, "EMailAddress");
  if (element === undefined) return { ok: false, reason: "No <EMailAddress> element" };
  const address = EmailAddress.safeParse(text(element));
  if (!address.success) return { ok: false, reason: "<EMailAddress> is not an email address" };
  return { ok: true, emailAddress: address.data };
}

// The parsed tree keeps prefixes (`a:Request`) and xmlns attributes, so the root's namespace can
// be checked; below the root, children are found by local name, as Outlook's requests use one namespace.
const localName = (name: string) => name.slice(name.indexOf(":") + 1);

function namespaceOf(name: string, element: unknown): string | undefined {
  const prefix = name.includes(":") ? name.slice(0, name.indexOf(":")) : "";
  if (typeof element !== "object" || element === null) return undefined;
  const ns = (element as Record<string, unknown>)[prefix ? `@xmlns:${prefix}` : "@xmlns"];
  return typeof ns === "string" ? ns : undefined;
}

function child(element: unknown, local: string): unknown {
  if (typeof element !== "object" || element === null) return undefined;
  const found = Object.entries(element).find(([name]) => !name.startsWith("@") && localName(name) === local)?.[1];
  return Array.isArray(found) ? found[0] : found;
}

function text(element: unknown): string {
  if (typeof element === "string") return element;
  if (typeof element === "object" && element !== null && typeof (element as Record<string, unknown>)["#text"] === "string") {
    return (element as Record<string, string>)["#text"]!;
  }
  return "";
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
