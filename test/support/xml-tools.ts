/**
 * Independent readers for what the autoconfig endpoints serve, so tests never check our XML with
 * our own parser: libxml2's xmllint validates against an XML Schema, and python3's standard
 * library (ElementTree, plistlib, uuid) parses documents and recomputes UUIDs.
 *
 * Callers may rely on: nothing reaches the network (`--nonet`, and neither Python module fetches
 * DTDs); every helper throws with the tool's own message when the input is not what it claims.
 * Needs `xmllint` (Debian libxml2-utils) and `python3` on PATH.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const THUNDERBIRD_XSD = fileURLToPath(new URL("./thunderbird-config-v1.1.xsd", import.meta.url));

/** An element as ElementTree sees it: `tag` is `{namespace}local` for namespaced elements. */
export interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  /** The element's leading text, trimmed. */
  text: string;
  children: XmlNode[];
}

/** Validates `xml` against the schema at `xsdPath`; returns xmllint's verdict and messages. */
export function validateWithXsd(xml: string, xsdPath: string): { valid: boolean; messages: string } {
  const run = spawnSync("xmllint", ["--noout", "--nonet", "--schema", xsdPath, "-"], { input: xml, encoding: "utf8" });
  if (run.error) throw run.error;
  return { valid: run.status === 0, messages: `${run.stdout}${run.stderr}`.trim() };
}

const TREE_SCRIPT = `
import json, sys, xml.etree.ElementTree as ET
def conv(e):
    return {"tag": e.tag, "attrs": dict(e.attrib), "text": (e.text or "").strip(), "children": [conv(c) for c in e]}
print(json.dumps(conv(ET.fromstring(sys.stdin.buffer.read()))))
`;

/** Parses a document with Python's ElementTree. */
export function parseXmlTree(xml: string): XmlNode {
  return JSON.parse(python(TREE_SCRIPT, xml)) as XmlNode;
}

/** Parses a property list with Python's plistlib (XML or binary) into plain JSON values. */
export function parsePlist(bytes: string | Uint8Array): unknown {
  return JSON.parse(python("import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))", bytes));
}

/** Python's uuid.uuid5(namespace, name), as an independent check of our derivation. */
export function pythonUuid5(namespace: string, name: string): string {
  return python("import sys, uuid; ns, name = sys.stdin.read().split('\\n', 1); print(uuid.uuid5(uuid.UUID(ns), name))", `${namespace}\n${name}`).trim();
}

/** The children of `node` with this tag (`{ns}local` or plain), in document order. */
export function childrenOf(node: XmlNode, tag: string): XmlNode[] {
  return node.children.filter((c) => c.tag === tag);
}

/** The one child of `node` with this tag; throws when there is none. */
export function childOf(node: XmlNode, tag: string): XmlNode {
  const found = node.children.find((c) => c.tag === tag);
  if (!found) throw new Error(`<${node.tag}> has no <${tag}> child (has: ${node.children.map((c) => c.tag).join(", ")})`);
  return found;
}

function python(script: string, input: string | Uint8Array): string {
  const run = spawnSync("python3", ["-c", script], { input, encoding: "utf8" });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr.trim()}`);
  return run.stdout;
}
