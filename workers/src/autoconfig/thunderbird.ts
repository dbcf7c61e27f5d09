/**
 * Mozilla's autoconfig file (`config-v1.1.xml`, clientConfig version 1.1), as documented on the
 * wiki page "Thunderbird:Autoconfiguration:ConfigFileFormat" and read by Thunderbird's
 * readFromXML. test/support/thunderbird-config-v1.1.xsd is that format as a schema.
 *
 * Callers may rely on: the document depends only on the MailService; IMAP (993 SSL, then 143
 * STARTTLS) and SMTP (465 SSL, then 587 STARTTLS) in that order of preference, password login
 * over TLS; the user name is Thunderbird's `%EMAILADDRESS%` placeholder (or the local part at the
 * mirrored domain), so one file serves every address of the domain. Every value is escaped.
 */
import { PORTS, type MailService } from "./settings.ts";
import { escapeXml } from "../xml/untrusted-xml.ts";

type SocketType = "SSL" | "STARTTLS";

export function renderThunderbirdConfig(service: MailService): string {
  const username = service.loginDomain === service.domain ? "%EMAILADDRESS%" : `%EMAILLOCALPART%@${service.loginDomain}`;
  const server = (kind: "incomingServer" | "outgoingServer", type: string, port: number, socketType: SocketType) =>
    [
      `    <${kind} type="${type}">`,
      `      <hostname>${escapeXml(service.host)}</hostname>`,
      `      <port>${port}</port>`,
      `      <socketType>${socketType}</socketType>`,
      `      <username>${escapeXml(username)}</username>`,
      // "password-cleartext" is safe here: every offered connection is TLS first.
      `      <authentication>password-cleartext</authentication>`,
      `    </${kind}>`,
    ].join("\n");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<clientConfig version="1.1">`,
    `  <emailProvider id="${escapeXml(service.domain)}">`,
    `    <domain>${escapeXml(service.domain)}</domain>`,
    `    <displayName>${escapeXml(`${service.domain} mail`)}</displayName>`,
    `    <displayShortName>${escapeXml(service.domain)}</displayShortName>`,
    server("incomingServer", "imap", PORTS.imaps, "SSL"),
    server("incomingServer", "imap", PORTS.imap, "STARTTLS"),
    server("outgoingServer", "smtp", PORTS.submissions, "SSL"),
    server("outgoingServer", "smtp", PORTS.submission, "STARTTLS"),
    `  </emailProvider>`,
    `</clientConfig>`,
    ``,
  ].join("\n");
}
