/**
 * Aggregate reports mailed to the report address through the real MX on a socket: DMARC reports
 * (gzip via nodemailer, zip via a raw transcript) and a TLS-RPT report are accepted with 250 and
 * show in the admin summaries; a malformed one gets 554 5.6.0 with the parser's reason; the
 * report address of every domain is accepted at RCPT.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { zipSync } from "fflate";
import nodemailer from "nodemailer";
import type { DmarcReportSummary, TlsReportSummary } from "../../common/contract.ts";
import { SmtpTranscript } from "../support/smtp-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const fixture = (name: string) => readFileSync(new URL(`../fixtures/reports/${name}`, import.meta.url));
const ALL_TIME = "since=0&until=9999999999999";

/** A report mail with one base64 attachment, as written by hand for the raw transcripts. */
function reportMail(to: string, part: { type: string; filename: string; content: Uint8Array }, tlsrpt = false): string {
  const boundary = "=_e2e_report_boundary";
  const base64 = Buffer.from(part.content).toString("base64").replace(/.{76}/g, "$&\r\n");
  const type = tlsrpt ? `multipart/report; report-type="tlsrpt"; boundary="${boundary}"` : `multipart/mixed; boundary="${boundary}"`;
  return (
    `From: reports@reporter.example\r\nTo: ${to}\r\nSubject: Report Domain: edgemail.test\r\nMessage-ID: <${part.filename}@reporter.example>\r\n` +
    `MIME-Version: 1.0\r\nContent-Type: ${type}\r\n\r\n` +
    `--${boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAn aggregate report.\r\n` +
    `--${boundary}\r\nContent-Type: ${part.type}\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="${part.filename}"\r\n\r\n${base64}\r\n` +
    `--${boundary}--\r\n`
  );
}

describe("reports by mail through the MX", () => {
  let stack: Stack;

  const summary = async <T>(kind: "tls" | "dmarc", query = ALL_TIME) => (await stack.admin("GET", `/reports/${kind}?${query}`)).json as T;

  /** One raw SMTP transaction; returns the RCPT reply and, when accepted, the final DATA reply. */
  async function send(rcpt: string, data: string): Promise<{ rcpt: string; data: string | null }> {
    const { client } = await SmtpTranscript.open(stack.relay!.ports.mx!);
    try {
      await client.command("EHLO reporter.example");
      assert.match(await client.command("MAIL FROM:<noreply-dmarc@reporter.example>"), /^250/);
      const reply = await client.command(`RCPT TO:<${rcpt}>`);
      if (!reply.startsWith("250")) return { rcpt: reply, data: null };
      assert.match(await client.command("DATA"), /^354/);
      return { rcpt: reply, data: await client.data(data) };
    } finally {
      client.close();
    }
  }

  before(async () => {
    stack = await startTestStack();
    await stack.admin("POST", "/domains", { name: "second.test" });
  });
  after(async () => {
    await stack?.cleanup();
  });

  it("accepts the report address of each domain at RCPT, and only that one", async () => {
    for (const rcpt of ["reports@edgemail.test", "reports@second.test"]) {
      const { client } = await SmtpTranscript.open(stack.relay!.ports.mx!);
      try {
        await client.command("EHLO reporter.example");
        await client.command("MAIL FROM:<noreply@reporter.example>");
        assert.match(await client.command(`RCPT TO:<${rcpt}>`), /^250 /, rcpt);
        assert.match(await client.command("RCPT TO:<nobody@second.test>"), /^550 5\.1\.1/);
      } finally {
        client.close();
      }
    }
  });

  it("accepts a gzipped DMARC report sent with nodemailer and summarises it", async () => {
    const transport = nodemailer.createTransport({ host: "127.0.0.1", port: stack.relay!.ports.mx!, secure: false, tls: { rejectUnauthorized: false } });
    const info = await transport.sendMail({
      envelope: { from: "noreply-dmarc@reporter.example", to: ["reports@edgemail.test"] },
      from: "noreply-dmarc@reporter.example",
      to: "reports@edgemail.test",
      subject: "Report domain: edgemail.test Submitter: acme.com Report-ID: 9391651994964116463",
      text: "DMARC aggregate report.",
      attachments: [{ filename: "acme.com!edgemail.test!1335571200!1335657599.xml.gz", content: gzipSync(fixture("rfc7489-sample.xml")), contentType: "application/gzip" }],
    });
    transport.close();
    assert.match(info.response, /^250 /);
    const dmarc = await summary<DmarcReportSummary>("dmarc", `domain=edgemail.test&${ALL_TIME}`);
    assert.equal(dmarc.reports, 1);
    assert.deepEqual(dmarc.rows, [
      { sourceIp: "72.150.241.94", organization: "acme.com", messages: 2, spfAligned: 2, dkimAligned: 0, dispositions: { none: 2, quarantine: 0, reject: 0 } },
    ]);
  });

  it("accepts a zipped DMARC report to the second domain's report address in a raw transcript", async () => {
    const zip = zipSync({ "report.xml": fixture("dmarc-multi.xml") });
    const r = await send("reports@second.test", reportMail("reports@second.test", { type: "application/zip", filename: "mail-and-co.example!edgemail.test!1335657600!1335743999.zip", content: zip }));
    assert.match(r.data ?? r.rcpt, /^250 /);
    const dmarc = await summary<DmarcReportSummary>("dmarc");
    assert.equal(dmarc.reports, 2);
    assert.deepEqual(
      dmarc.rows.map((row) => [row.sourceIp, row.organization, row.messages, row.spfAligned, row.dkimAligned, row.dispositions]),
      [
        ["192.0.2.10", "Mail & Co", 15, 10, 15, { none: 15, quarantine: 0, reject: 0 }],
        ["203.0.113.20", "Mail & Co", 7, 4, 0, { none: 0, quarantine: 3, reject: 4 }],
        ["72.150.241.94", "acme.com", 2, 2, 0, { none: 2, quarantine: 0, reject: 0 }],
        ["2001:db8::25", "Mail & Co", 1, 0, 0, { none: 0, quarantine: 0, reject: 1 }],
      ],
    );
  });

  it("accepts a TLS-RPT report (multipart/report, application/tlsrpt+gzip) and summarises it", async () => {
    const raw = reportMail(
      "reports@edgemail.test",
      { type: "application/tlsrpt+gzip", filename: "company-x.example!edgemail.test!1459468800!1459555199.json.gz", content: gzipSync(fixture("rfc8460-example.json")) },
      true,
    );
    const r = await send("reports@edgemail.test", raw);
    assert.match(r.data ?? r.rcpt, /^250 /);
    const tls = await summary<TlsReportSummary>("tls", `domain=edgemail.test&${ALL_TIME}`);
    assert.equal(tls.reports, 1);
    assert.deepEqual(tls.rows, [
      {
        organization: "Company-X",
        policyType: "sts",
        policyDomain: "edgemail.test",
        reports: 1,
        successes: 5326,
        failures: 303,
        failureTypes: { "certificate-expired": 100, "starttls-not-supported": 200, "validation-failure": 3 },
      },
    ]);
  });

  it("refuses a malformed report with 554 5.6.0 and the reason, storing nothing", async () => {
    const before = [await summary<DmarcReportSummary>("dmarc"), await summary<TlsReportSummary>("tls")];
    const r = await send("reports@edgemail.test", reportMail("reports@edgemail.test", { type: "text/xml", filename: "broken.xml", content: fixture("dmarc-malformed.xml") }));
    assert.match(r.data ?? r.rcpt, /^554 5\.6\.0 The DMARC report is not well-formed XML: Expected closing tag 'row'/);
    const foreign = await send("reports@edgemail.test", reportMail("reports@edgemail.test", { type: "application/gzip", filename: "f.xml.gz", content: gzipSync(fixture("dmarc-foreign-domain.xml")) }));
    assert.match(foreign.data ?? foreign.rcpt, /^554 5\.6\.0 The report is about not-ours\.example, which is not a domain served here/);
    assert.deepEqual([await summary<DmarcReportSummary>("dmarc"), await summary<TlsReportSummary>("tls")], before);
  });
});
