/**
 * Apple configuration profile (`.mobileconfig`, an XML property list) with one
 * `com.apple.mail.managed` payload: an IMAP account for iOS, iPadOS and macOS Mail, as described
 * in Apple's "Configuration Profile Reference" (Mail payload).
 *
 * Callers may rely on: the profile holds no password (the device asks once; the outgoing server
 * reuses it); it is unsigned (installs as "Unverified"); its identifiers are deterministic per
 * address — the same UUIDs (version 5, from `profileUuids`) and the same reverse-DNS
 * PayloadIdentifier every time — so installing a fresh download replaces the installed profile
 * instead of adding a second account. Every value is escaped.
 */
import { loginNameFor, PORTS, type MailService } from "./settings.ts";
import { escapeXml } from "../xml/untrusted-xml.ts";

/** Namespace of our name-based UUIDs: uuid5(NAMESPACE_URL, "urn:edgemail:apple-mobileconfig"). */
export const PROFILE_UUID_NAMESPACE = "c693973f-05ba-5997-82c9-568339268ffb";

export interface ProfileIds {
  /** PayloadUUID of the profile: uuid5(namespace, "profile <address>"). */
  profile: string;
  /** PayloadUUID of the mail payload: uuid5(namespace, "mail <address>"). */
  mail: string;
}

export async function profileUuids(address: string): Promise<ProfileIds> {
  return { profile: await uuidV5(PROFILE_UUID_NAMESPACE, `profile ${address}`), mail: await uuidV5(PROFILE_UUID_NAMESPACE, `mail ${address}`) };
}

/** RFC 9562 §5.5: SHA-1 of namespace bytes and name, version and variant bits set. */
export async function uuidV5(namespace: string, name: string): Promise<string> {
  const ns = Uint8Array.from(namespace.replace(/-/g, "").match(/../g)!, (h) => parseInt(h, 16));
  const input = new Uint8Array([...ns, ...new TextEncoder().encode(name)]);
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `example.org` → `org.example`: Apple's identifiers are reverse-DNS. */
export function reverseDns(domain: string): string {
  return domain.split(".").reverse().join(".");
}

/** The profile for `address`, an account of `service.loginDomain`. */
export function renderMobileconfig(service: MailService, address: string, ids: ProfileIds): string {
  const login = loginNameFor(service, address);
  const identifier = `${reverseDns(service.domain)}.edgemail.mail.${ids.profile}`;
  const str = (key: string, value: string) => [`<key>${key}</key>`, `<string>${escapeXml(value)}</string>`];
  const int = (key: string, value: number) => [`<key>${key}</key>`, `<integer>${value}</integer>`];
  const bool = (key: string, value: boolean) => [`<key>${key}</key>`, value ? `<true/>` : `<false/>`];
  const mail = [
    ...str("EmailAccountDescription", address),
    ...str("EmailAccountType", "EmailTypeIMAP"),
    ...str("EmailAddress", address),
    ...str("IncomingMailServerAuthentication", "EmailAuthPassword"),
    ...str("IncomingMailServerHostName", service.host),
    ...int("IncomingMailServerPortNumber", PORTS.imaps),
    ...bool("IncomingMailServerUseSSL", true),
    ...str("IncomingMailServerUsername", login),
    ...str("OutgoingMailServerAuthentication", "EmailAuthPassword"),
    ...str("OutgoingMailServerHostName", service.host),
    ...int("OutgoingMailServerPortNumber", PORTS.submissions),
    ...bool("OutgoingMailServerUseSSL", true),
    ...str("OutgoingMailServerUsername", login),
    // The same account password for submission: the device asks for it once.
    ...bool("OutgoingPasswordSameAsIncomingPassword", true),
    ...str("PayloadDescription", `IMAP and SMTP settings for ${address}`),
    ...str("PayloadDisplayName", `Mail: ${address}`),
    ...str("PayloadIdentifier", `${identifier}.imap`),
    ...str("PayloadType", "com.apple.mail.managed"),
    ...str("PayloadUUID", ids.mail),
    ...int("PayloadVersion", 1),
  ];
  const profile = [
    `<key>PayloadContent</key>`,
    `<array>`,
    `\t<dict>`,
    ...mail.map((l) => `\t\t${l}`),
    `\t</dict>`,
    `</array>`,
    ...str("PayloadDescription", `Sets up the mail account ${address} of ${service.domain}.`),
    ...str("PayloadDisplayName", `Mail: ${address}`),
    ...str("PayloadIdentifier", identifier),
    ...str("PayloadOrganization", service.domain),
    ...bool("PayloadRemovalDisallowed", false),
    ...str("PayloadType", "Configuration"),
    ...str("PayloadUUID", ids.profile),
    ...int("PayloadVersion", 1),
  ];
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    `<plist version="1.0">`,
    `<dict>`,
    ...profile.map((l) => `\t${l}`),
    `</dict>`,
    `</plist>`,
    ``,
  ].join("\n");
}
