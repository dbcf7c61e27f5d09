/**
 * RFC 8461 §4.1 MX matching, shared by the edge (an `enforce` policy must cover the domain's own
 * MX hosts) and the doctor (the published policy must cover the published MX records). The relay
 * matches through mailauth's validateMx, which follows the same rule.
 *
 * Callers may rely on: names compare case-insensitively and without a final dot; a `*.` pattern
 * stands for exactly one leftmost label (`*.example.org` matches `mx.example.org`, not
 * `example.org` nor `a.mx.example.org`).
 */
export function mxPatternMatches(pattern: string, host: string): boolean {
  const p = canonical(pattern);
  const h = canonical(host);
  if (!p.startsWith("*.")) return p === h;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

function canonical(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, "");
}
