/**
 * XML from strangers (DMARC reports, Autodiscover requests), read with fast-xml-parser after two
 * gates: a document that declares a DOCTYPE or entities is refused outright (DTDs are where
 * external entities and entity-expansion bombs come from, and no format we read uses one), and
 * the text must be well-formed (XMLValidator), so the reason a sender gets names the fault.
 *
 * Callers may rely on: `readUntrustedXml` returns the parsed tree or throws `bad_request` whose
 * message starts with `what` and says why; only the five predefined entities and character
 * references are decoded; nesting is capped (MAX_DEPTH).
 */
import { XMLParser, XMLValidator, type X2jOptions } from "fast-xml-parser";
import { apiError } from "../errors.ts";

const MAX_DEPTH = 32;

export function readUntrustedXml(xml: string, what: string, options: Partial<X2jOptions>): unknown {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw apiError("bad_request", `${what} declares a DTD (DOCTYPE or entities), which is not accepted`);
  if (xml.trim() === "") throw apiError("bad_request", `${what} is not well-formed XML: it is empty`);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw apiError("bad_request", `${what} is not well-formed XML: ${clip(readable(valid.err.msg))} (line ${valid.err.line})`);
  try {
    return new XMLParser({ processEntities: true, htmlEntities: false, ignoreDeclaration: true, ignorePiTags: true, maxNestedTags: MAX_DEPTH, ...options }).parse(xml);
  } catch (err) {
    throw apiError("bad_request", `${what} is not readable XML: ${clip(err instanceof Error ? err.message : String(err))}`);
  }
}

/** Escapes text and attribute values for what we write (XML 1.0's unusable characters become U+FFFD). */
export function escapeXml(value: string): string {
  return value
    .replace(/[&<>"']/g, (ch) => ESCAPES[ch]!)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** XMLValidator reports elements left open as `Invalid '["a","b"]' found.` */
function readable(message: string): string {
  const open = /^Invalid '(\[.*\])' found\.?$/s.exec(message);
  if (!open) return message;
  try {
    return `elements never closed: ${(JSON.parse(open[1]!) as string[]).map((name) => `<${name}>`).join(", ")}`;
  } catch {
    return message;
  }
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
