/**
 * XML for the autoconfig formats: escaping for what we write, and a deliberately small parser for
 * the one XML document we read (an Outlook Autodiscover request).
 *
 * Why our own parser: the request is a few hundred bytes from anyone on the internet, and the
 * dangers of general XML parsers (external entities, entity expansion bombs) come from DTDs.
 * This parser accepts well-formed XML 1.0 without any DTD: a DOCTYPE is an error, and the only
 * entity references are the five predefined ones and character references.
 *
 * Callers may rely on: `escapeXml` output is safe in text and in single- or double-quoted
 * attribute values; `parseXml` never throws, returns either one root element with namespaces
 * resolved or a reason a person can read, and is bounded in depth and element count.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/**
 * Escapes text and attribute values. Characters XML 1.0 cannot carry at all (most C0 controls,
 * lone surrogates, U+FFFE/U+FFFF) become U+FFFD, so the document stays well-formed whatever a
 * stored value holds.
 */
export function escapeXml(value: string): string {
  return value
    .replace(/[&<>"']/g, (ch) => ESCAPES[ch]!)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

export interface XmlElement {
  /** The name as written, with its prefix (`a:EMailAddress`). */
  name: string;
  /** The name without its prefix. */
  local: string;
  /** The namespace URI the prefix (or the default namespace) resolves to; "" for none. */
  ns: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data (text and CDATA directly inside it), entities decoded. */
  text: string;
}

export type XmlParseResult = { ok: true; root: XmlElement } | { ok: false; reason: string };

const MAX_DEPTH = 32;
const MAX_ELEMENTS = 1000;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?$/;
const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

class XmlError extends Error {}

/** Parses one document; see the file header for what is accepted. */
export function parseXml(source: string): XmlParseResult {
  try {
    return { ok: true, root: new Parser(source.replace(/^\uFEFF/, "")).document() };
  } catch (err) {
    if (err instanceof XmlError) return { ok: false, reason: err.message };
    throw err;
  }
}

/** The first child element with this local name (and namespace, when given). */
export function childElement(parent: XmlElement, local: string, ns?: string): XmlElement | undefined {
  return parent.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}

interface Open {
  element: XmlElement;
  namespaces: Map<string, string>;
}

class Parser {
  readonly #s: string;
  #i = 0;
  #elements = 0;

  constructor(source: string) {
    this.#s = source;
  }

  document(): XmlElement {
    let root: XmlElement | undefined;
    const stack: Open[] = [];
    const top = new Map<string, string>([["xml", "http://www.w3.org/XML/1998/namespace"]]);
    while (this.#i < this.#s.length) {
      const lt = this.#s.indexOf("<", this.#i);
      const textEnd = lt < 0 ? this.#s.length : lt;
      if (textEnd > this.#i) {
        const raw = this.#s.slice(this.#i, textEnd);
        const parent = stack.at(-1);
        if (parent) parent.element.text += decodeText(raw);
        else if (raw.trim() !== "") throw new XmlError("text outside the root element");
        this.#i = textEnd;
        continue;
      }
      if (this.#s.startsWith("<!--", this.#i)) {
        this.#skipPast("-->", "unterminated comment");
      } else if (this.#s.startsWith("<?", this.#i)) {
        // The XML declaration and processing instructions carry nothing we read.
        this.#skipPast("?>", "unterminated processing instruction");
      } else if (this.#s.startsWith("<![CDATA[", this.#i)) {
        const parent = stack.at(-1);
        if (!parent) throw new XmlError("CDATA outside the root element");
        const end = this.#s.indexOf("]]>", this.#i + 9);
        if (end < 0) throw new XmlError("unterminated CDATA section");
        parent.element.text += this.#s.slice(this.#i + 9, end);
        this.#i = end + 3;
      } else if (this.#s.startsWith("<!", this.#i)) {
        throw new XmlError("DTDs and entity declarations are not accepted");
      } else if (this.#s.startsWith("</", this.#i)) {
        const end = this.#s.indexOf(">", this.#i);
        if (end < 0) throw new XmlError("unterminated end tag");
        const name = this.#s.slice(this.#i + 2, end).trim();
        const open = stack.pop();
        if (!open || open.element.name !== name) throw new XmlError(`end tag </${name.slice(0, 40)}> does not match ${open ? `<${open.element.name}>` : "any open element"}`);
        this.#i = end + 1;
      } else {
        if (root && stack.length === 0) throw new XmlError("more than one root element");
        const parent = stack.at(-1);
        const { element, namespaces, selfClosing } = this.#startTag(parent?.namespaces ?? top);
        if (parent) parent.element.children.push(element);
        else root = element;
        if (!selfClosing) {
          if (stack.length >= MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH}`);
          stack.push({ element, namespaces });
        }
      }
    }
    if (stack.length > 0) throw new XmlError(`<${stack.at(-1)!.element.name}> is never closed`);
    if (!root) throw new XmlError("no root element");
    return root;
  }

  #skipPast(terminator: string, error: string): void {
    const end = this.#s.indexOf(terminator, this.#i + 2);
    if (end < 0) throw new XmlError(error);
    this.#i = end + terminator.length;
  }

  #startTag(inherited: Map<string, string>): { element: XmlElement; namespaces: Map<string, string>; selfClosing: boolean } {
    if (++this.#elements > MAX_ELEMENTS) throw new XmlError(`more than ${MAX_ELEMENTS} elements`);
    // Attribute values may not hold "<" but may hold ">", so the tag is scanned, not split.
    const tag = /^<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(this.#s.slice(this.#i, this.#i + 4096));
    if (!tag) throw new XmlError("malformed start tag");
    const name = tag[1]!;
    if (!NAME.test(name)) throw new XmlError(`malformed element name "${name.slice(0, 40)}"`);
    const attributes: Record<string, string> = {};
    for (const a of tag[2]!.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      const attr = a[1]!;
      if (!NAME.test(attr)) throw new XmlError(`malformed attribute name "${attr.slice(0, 40)}"`);
      if (Object.hasOwn(attributes, attr)) throw new XmlError(`attribute ${attr} given twice`);
      attributes[attr] = decodeText(a[2] ?? a[3] ?? "");
    }
    this.#i += tag[0].length;

    let namespaces = inherited;
    for (const [attr, value] of Object.entries(attributes)) {
      if (attr === "xmlns" || attr.startsWith("xmlns:")) {
        if (namespaces === inherited) namespaces = new Map(inherited);
        namespaces.set(attr === "xmlns" ? "" : attr.slice(6), value);
      }
    }
    const colon = name.indexOf(":");
    const prefix = colon < 0 ? "" : name.slice(0, colon);
    const ns = namespaces.get(prefix);
    if (ns === undefined && prefix !== "") throw new XmlError(`namespace prefix "${prefix}" is not declared`);
    const element: XmlElement = { name, local: name.slice(colon + 1), ns: ns ?? "", attributes, children: [], text: "" };
    return { element, namespaces, selfClosing: tag[3] === "/" };
  }
}

function decodeText(raw: string): string {
  if (raw.includes("]]>")) throw new XmlError('"]]>" in text');
  return raw.replace(/&([^;&<\s]*);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError('"&" that starts no entity reference');
    if (Object.hasOwn(PREDEFINED, ref)) return PREDEFINED[ref]!;
    const code = /^#x[0-9a-fA-F]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
    if (Number.isNaN(code)) throw new XmlError(`unknown entity &${ref.slice(0, 40)}; (no DTD, so only the predefined five)`);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new XmlError(`character reference ${whole} is not a character`);
    return String.fromCodePoint(code);
  });
}
