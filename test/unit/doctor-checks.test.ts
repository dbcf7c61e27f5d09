/**
 * The pure judgements inside `edgemail doctor`: MTA-STS policy syntax (RFC 8461 §3.2) and mx
 * pattern matching (§4.1), how two SPF records differ, reverse-DNS names, and the printed line.
 * The network half is test/e2e/doctor.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePolicy } from "../../cli/doctor/mta-sts.ts";
import { mxPatternMatches } from "../../common/mta-sts.ts";
import { spfDifference } from "../../cli/doctor/records.ts";
import { formatLine } from "../../cli/doctor/report.ts";
import { reverseName } from "../../cli/doctor/resolver.ts";

describe("doctor: MTA-STS policy syntax", () => {
  it("reads a valid policy with LF or CRLF lines, several mx lines and unknown extension fields", () => {
    for (const eol of ["\n", "\r\n"]) {
      const p = parsePolicy(["version: STSv1", "mode: enforce", "mx: mx1.example.org", "mx: *.example.net", "max_age: 604800", "x_ext: whatever", ""].join(eol));
      assert.deepEqual(p, { version: "STSv1", mode: "enforce", maxAge: 604800, mx: ["mx1.example.org", "*.example.net"], problems: [] });
    }
    assert.deepEqual(parsePolicy("version: STSv1\nmode: none\nmax_age: 86400").problems, [], "mode none needs no mx");
  });

  const cases: [string, string, RegExp][] = [
    ["a wrong version", "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1", /version is "STSv2", not STSv1/],
    ["version not first", "mode: enforce\nversion: STSv1\nmx: a.example\nmax_age: 1", /version is not the first field/],
    ["an unknown mode", "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1", /mode "strict" is not enforce, testing or none/],
    ["max_age over a year", "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 31557601", /max_age 31557601 exceeds 31557600/],
    ["max_age not a number", "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1d", /max_age "1d" is not a number/],
    ["no mx", "version: STSv1\nmode: enforce\nmax_age: 86400", /no mx field/],
    ["a bad mx pattern", "version: STSv1\nmode: enforce\nmx: mail.*.example\nmax_age: 86400", /mx "mail\.\*\.example" is not a host name/],
    ["a line without a colon", "version: STSv1\nmode enforce\nmx: a.example\nmax_age: 86400", /line 2 is not "key: value"/],
    ["a repeated mode", "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 86400", /mode appears more than once/],
    ["an empty body", "", /no version field; no mode field; no max_age field; no mx field/],
  ];
  for (const [what, text, problem] of cases) {
    it(`reports ${what}`, () => assert.match(parsePolicy(text).problems.join("; "), problem));
  }
});

describe("doctor: mx pattern matching (RFC 8461 §4.1)", () => {
  const table: [string, string, boolean][] = [
    ["mx.example.org", "mx.example.org", true],
    ["mx.example.org", "MX.Example.org.", true],
    ["mx.example.org", "mx2.example.org", false],
    ["*.example.org", "mx.example.org", true],
    ["*.example.org", "example.org", false],
    ["*.example.org", "a.mx.example.org", false],
    ["*.example.org", "mx.example.org.evil", false],
  ];
  for (const [pattern, host, expected] of table) {
    it(`${pattern} ${expected ? "matches" : "does not match"} ${host}`, () => assert.equal(mxPatternMatches(pattern, host), expected));
  }
});

describe("doctor: explaining an SPF difference", () => {
  it("names the all qualifier, the missing and the extra terms", () => {
    assert.equal(spfDifference("v=spf1 a ~all", "v=spf1 mx -all"), "ends in ~all instead of -all; lacks mx; has a, which the relays do not need");
    assert.equal(spfDifference("v=spf1 ip4:192.0.2.1", "v=spf1 ip4:192.0.2.1 -all"), "lacks -all");
    assert.equal(spfDifference("v=spf1 -all mx", "v=spf1 mx -all"), "the same terms in another order");
  });
});

describe("doctor: reverse names and printed lines", () => {
  it("builds in-addr.arpa and nibble ip6.arpa names", () => {
    assert.equal(reverseName("192.0.2.1"), "1.2.0.192.in-addr.arpa");
    assert.equal(reverseName("2001:db8::1"), `1.${"0.".repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
    assert.equal(reverseName("::1"), `1.${"0.".repeat(31)}ip6.arpa`);
  });

  it("prints ✓ with what was found, ✗ with what is wrong and the fix", () => {
    assert.equal(formatLine({ check: "SPF", ok: true, found: 'example.org "v=spf1 mx -all"', fix: null }, false), '✓ SPF  example.org "v=spf1 mx -all"');
    assert.equal(
      formatLine({ check: "DMARC", ok: false, found: "_dmarc.example.org has no DMARC record", fix: "publish X" }, false),
      "✗ DMARC  _dmarc.example.org has no DMARC record — fix: publish X",
    );
    assert.match(formatLine({ check: "MX", ok: false, found: "f", fix: "x" }, true), /^\x1b\[31m✗\x1b\[39m MX/);
  });
});
