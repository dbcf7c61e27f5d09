/**
 * Finds the report in a mail sent to a report address: a TLS-RPT report (RFC 8460 §5.3: a part
 * of type application/tlsrpt+gzip or application/tlsrpt+json) or a DMARC aggregate report (RFC
 * 7489 §7.2.1.1: an application/zip, application/gzip or XML part, or a part whose file name ends
 * in .zip, .gz or .xml, also when the whole message is that part).
 *
 * Callers may rely on: the MIME structure is parsed by postal-mime; a TLS-RPT part wins over a
 * DMARC part, and of each kind the first in the message is the one read (a report mail carries
 * one report); the part is unpacked by its magic bytes (inflate.ts), so a mislabelled gzip or
 * zip is still read. Errors, each with a reason fit for an SMTP reply: `too_large` for a message
 * over REPORT_LIMITS.messageBytes, a part over REPORT_LIMITS.compressedBytes or one inflating past
 * REPORT_LIMITS.inflatedBytes; `bad_request` for a message that is not MIME, holds no report part,
 * or whose report does not parse (tls-rpt.ts, dmarc.ts).
 */
import PostalMime, { type Attachment } from "postal-mime";
import { REPORT_LIMITS } from "../../../common/contract.ts";
import { apiError } from "../errors.ts";
import { parseDmarcReport, type DmarcReport } from "./dmarc.ts";
import { unpack } from "./inflate.ts";
import { parseTlsReport, type TlsReport } from "./tls-rpt.ts";

export type FoundReport = { kind: "tls"; report: TlsReport } | { kind: "dmarc"; report: DmarcReport };

const TLS_TYPES = new Set(["application/tlsrpt+gzip", "application/tlsrpt+json"]);
const DMARC_TYPES = new Set(["application/zip", "application/x-zip-compressed", "application/gzip", "application/x-gzip", "text/xml", "application/xml"]);
const DMARC_FILE = /\.(zip|gz|xml)$/i;

export async function findReport(raw: Uint8Array): Promise<FoundReport> {
  if (raw.byteLength > REPORT_LIMITS.messageBytes) {
    throw apiError("too_large", `A report mail may be at most ${mib(REPORT_LIMITS.messageBytes)} MiB`);
  }
  let attachments: Attachment[];
  try {
    attachments = (await PostalMime.parse(raw, { maxNestingDepth: 16, maxRfc822NestingDepth: 0 })).attachments;
  } catch {
    throw apiError("bad_request", "The report mail is not a readable MIME message");
  }
  const tls = attachments.find((a) => TLS_TYPES.has(a.mimeType));
  if (tls) return { kind: "tls", report: parseTlsReport(inflated(tls)) };
  const dmarc = attachments.find((a) => DMARC_TYPES.has(a.mimeType) || (a.filename !== null && DMARC_FILE.test(a.filename)));
  if (dmarc) return { kind: "dmarc", report: parseDmarcReport(inflated(dmarc)) };
  throw apiError(
    "bad_request",
    "The message holds no report: expected a DMARC report (.xml, .xml.gz, .gz or .zip) or a TLS-RPT report (application/tlsrpt+gzip or +json)",
  );
}

function inflated(part: Attachment): Uint8Array {
  const content = part.content;
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new Uint8Array(content);
  if (bytes.byteLength > REPORT_LIMITS.compressedBytes) {
    throw apiError("too_large", `A report attachment may be at most ${mib(REPORT_LIMITS.compressedBytes)} MiB`);
  }
  return unpack(bytes, REPORT_LIMITS.inflatedBytes).data;
}

function mib(bytes: number): number {
  return Math.floor(bytes / (1024 * 1024));
}
