/**
 * What every client-configuration format says about one domain's mail service, as plain values,
 * so the renderers (thunderbird.ts, autodiscover.ts, mobileconfig.ts) stay pure and are tested
 * without an edge.
 *
 * Callers may rely on: the ports are the relay's standard listeners (DESIGN.md §5): implicit TLS
 * first (RFC 8314 §3: preferred over STARTTLS), STARTTLS only as each format's second choice.
 */

export interface MailService {
  /** The domain the client asked about (lower-case). */
  domain: string;
  /** The host clients connect to for IMAP and submission: the domain's first MX host. */
  host: string;
  /**
   * The domain of the login names: the domain itself, or for a domain that mirrors another
   * (settings.aliasOf) the mirrored one, where the accounts live.
   */
  loginDomain: string;
}

export const PORTS = {
  /** IMAP over implicit TLS (RFC 8314). */
  imaps: 993,
  /** IMAP with STARTTLS. */
  imap: 143,
  /** Submission over implicit TLS (RFC 8314). */
  submissions: 465,
  /** Submission with STARTTLS (RFC 6409). */
  submission: 587,
} as const;

/** The login name of `address` on this service (accounts log in with their full address). */
export function loginNameFor(service: MailService, address: string): string {
  const at = address.lastIndexOf("@");
  return service.loginDomain === service.domain ? address : `${address.slice(0, at)}@${service.loginDomain}`;
}
