/**
 * The public MTA-STS policy file (RFC 8461 §3.2), chosen by the Host header, against a real edge.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getWithHost, startTestEdge, type TestEdge } from "../support/edge-api.ts";

describe("MTA-STS policy", () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startTestEdge();
    const created = await edge.admin("POST", "/domains", {
      name: "example.org",
      mtaSts: { mode: "enforce", mx: ["mx1.example.org", "*.backup.example.org"], maxAge: 86400 },
    });
    assert.equal(created.status, 201);
    assert.equal((await edge.admin("POST", "/domains", { name: "nopolicy.test", mtaSts: null })).status, 201);
  });
  after(async () => {
    await edge?.stop();
  });

  it("serves the policy of a configured domain on mta-sts.<domain>, without a token", async () => {
    const r = await getWithHost(edge.url, "/.well-known/mta-sts.txt", "MTA-STS.Example.org:443");
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/plain/);
    assert.equal(r.text, "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: *.backup.example.org\r\nmax_age: 86400\r\n");
  });

  it("answers 404 for a domain without a policy", async () => {
    const r = await getWithHost(edge.url, "/.well-known/mta-sts.txt", "mta-sts.nopolicy.test");
    assert.equal(r.status, 404);
  });

  it("answers 404 for an unknown domain and for a host that is not mta-sts.*", async () => {
    for (const host of ["mta-sts.unknown.test", "example.org", "www.example.org"]) {
      const r = await getWithHost(edge.url, "/.well-known/mta-sts.txt", host);
      assert.equal(r.status, 404, host);
      assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, "not_found");
    }
  });
});
