/**
 * The XML Schema the autoconfig tests validate Thunderbird's file with
 * (test/support/thunderbird-config-v1.1.xsd) checked on its own: it must accept files in the
 * format Mozilla documents (as ISPDB files are written, in either order of username and
 * authentication) and reject the mistakes that break account setup. A schema that accepted
 * anything would make the edge test prove nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { THUNDERBIRD_XSD, validateWithXsd } from "../support/xml-tools.ts";

const server = (kind: string, type: string, body: string) => `<${kind} type="${type}">${body}</${kind}>`;
const imap = `<hostname>imap.example.com</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>`;
const smtp = `<hostname>smtp.example.com</hostname><port>587</port><socketType>STARTTLS</socketType><authentication>password-encrypted</authentication><username>%EMAILLOCALPART%</username>`;

function config(parts: { incoming?: string; outgoing?: string; provider?: string; version?: string; after?: string } = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="${parts.version ?? "1.1"}">
  <emailProvider id="example.com">
    <domain>example.com</domain>
    <domain purpose="mx">mx.example.com</domain>
    <displayName>Example Mail</displayName>
    <displayShortName>Example</displayShortName>
    ${parts.incoming ?? server("incomingServer", "imap", imap)}
    ${server("incomingServer", "pop3", `<hostname>pop.example.com</hostname><port>995</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication><pop3><leaveMessagesOnServer>true</leaveMessagesOnServer><checkInterval minutes="15"/></pop3>`)}
    ${parts.outgoing ?? server("outgoingServer", "smtp", smtp)}
    ${parts.provider ?? `<documentation url="https://example.com/help"><descr lang="en">Settings</descr></documentation>`}
  </emailProvider>
  ${parts.after ?? `<clientConfigUpdate url="https://example.com/config/mozilla.xml"/>`}
</clientConfig>`;
}

describe("the Thunderbird config-v1.1 schema", () => {
  it("accepts files in the documented format", () => {
    for (const xml of [
      config(),
      config({ provider: `<enable visiturl="https://example.com/settings"><instruction lang="en">Turn IMAP on</instruction></enable><instruction url="https://example.com/help"><descr>How to</descr></instruction>` }),
      config({ after: `<oAuth2><issuer>accounts.example.com</issuer><scope>mail</scope><authURL>https://example.com/auth</authURL><tokenURL>https://example.com/token</tokenURL></oAuth2><webMail><loginPage url="https://example.com/"/></webMail>` }),
    ]) {
      const verdict = validateWithXsd(xml, THUNDERBIRD_XSD);
      assert.ok(verdict.valid, verdict.messages);
    }
  });

  it("rejects what would break account setup", () => {
    const cases: [string, string][] = [
      ["an unknown socketType", config({ incoming: server("incomingServer", "imap", imap.replace(">SSL<", ">TLS<")) })],
      ["a port out of range", config({ incoming: server("incomingServer", "imap", imap.replace(">993<", ">99300<")) })],
      ["a missing hostname", config({ incoming: server("incomingServer", "imap", imap.replace("<hostname>imap.example.com</hostname>", "")) })],
      ["an unknown authentication", config({ outgoing: server("outgoingServer", "smtp", smtp.replace("password-encrypted", "password")) })],
      ["an outgoing server of type imap", config({ outgoing: server("outgoingServer", "imap", smtp) })],
      ["no outgoing server", config({ outgoing: "" })],
      ["another version", config({ version: "1.0" })],
      ["a misspelt element", config({ incoming: server("incomingServer", "imap", imap.replace(/username/g, "userName")) })],
    ];
    for (const [what, xml] of cases) {
      assert.equal(validateWithXsd(xml, THUNDERBIRD_XSD).valid, false, what);
    }
  });
});
