/**
 * A local DNS for tests: Debian's `unbound` as a validating resolver on 127.0.0.1 that answers
 * only from zones built from the records a test gives, and never talks to anything off the machine.
 *
 * Callers may rely on:
 * - `startDnsZone(records, opts)` resolves once the resolver answers, on a free UDP+TCP port:
 *   `server` ("127.0.0.1:<port>") goes straight into `Resolver#setServers([server])`.
 * - Every name outside the given records is NXDOMAIN (a local unsigned root zone delegates only to
 *   the test's zones), an existing name without the asked type is NOERROR with no answer.
 * - Records whose name is at or under an apex in `opts.signedZones` are served from a zone signed
 *   with ldns-signzone (ECDSA P-256, NSEC) whose key is a trust anchor of the resolver: answers
 *   (also NXDOMAIN/NODATA) come back with AD=1 when the query asks for DNSSEC (DO, or the AD bit in
 *   the query, RFC 6840 5.7). Everything else comes back with AD=0. Apexes in `opts.bogusZones`
 *   are signed too, but the resolver trusts another key, so every answer there is SERVFAIL (bogus).
 * - Zone cuts: a record belongs to the most specific apex containing it, from signedZones,
 *   bogusZones and `opts.zones`; a record under none of them gets an unsigned zone at its last two
 *   labels (mx1.example.net -> example.net). Nested zones are delegated from their parent (with a
 *   DS when the child is signed), so an unsigned zone inside a signed one is provably insecure.
 * - TXT strings are split into 255-byte character-strings; resolvers hand them back as chunks of
 *   one record (node:dns `resolveTxt` gives string[][]: join each inner array).
 * - `update(records, opts?)` replaces the whole data set (and the zone options given) and restarts
 *   the resolver on the same port, so no cached answer survives; signing keys stay the same.
 * - `stop()` kills the resolver and removes its temporary directory; it is safe to call twice.
 *   If this process dies without stop(), the resolver still goes (its temporary directory stays).
 * - `dnsQuery()` sends one raw query over UDP (dns-packet), with DO and AD set by default.
 * - PTR records (named with `ptrName(address)`) are served like any other, also under unbound's
 *   built-in reverse zones such as 127.in-addr.arpa., which are switched off when a test has a
 *   record or a zone (`opts.zones: ["127.in-addr.arpa"]`) under them, and only then.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { constants, readFileSync } from "node:fs";
import { access, chmod, copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import dnsPacket from "dns-packet";
import { buildZones, builtinReverseZone, fqdn, renderZone, type Zone } from "./dns-zone-file.ts";

export { ptrName } from "./dns-zone-file.ts";

interface RecordBase {
  name: string;
  ttl?: number;
}
export type ZoneRecord =
  | (RecordBase & { type: "A"; address: string })
  | (RecordBase & { type: "AAAA"; address: string })
  /** exchange "." is a null MX (RFC 7505), with preference 0. */
  | (RecordBase & { type: "MX"; preference: number; exchange: string })
  /** One TXT record; a string longer than 255 bytes is split, several strings are kept apart. */
  | (RecordBase & { type: "TXT"; text: string | string[] })
  /** data: the certificate association data in hex. */
  | (RecordBase & { type: "TLSA"; usage: number; selector: number; matchingType: number; data: string })
  | (RecordBase & { type: "CNAME"; target: string })
  | (RecordBase & { type: "SRV"; priority: number; weight: number; port: number; target: string })
  /** Reverse DNS: name is the in-addr.arpa / ip6.arpa name (see `ptrName`). */
  | (RecordBase & { type: "PTR"; target: string });

export interface DnsZoneOptions {
  /** Zone apexes served DNSSEC-signed and trusted: answers there carry AD=1. */
  signedZones?: string[];
  /** Zone apexes signed with a key the resolver does not trust: answers there are SERVFAIL. */
  bogusZones?: string[];
  /** Extra unsigned zone apexes, to put a zone cut somewhere other than the last two labels. */
  zones?: string[];
  /** TTL in seconds of records that give none, and of negative answers; default 5, so that a
   * cache outside unbound (the relay's) soon sees what update() changed. */
  defaultTtl?: number;
}

export interface DnsZone {
  /** "127.0.0.1:<port>" */
  server: string;
  port: number;
  update(records: ZoneRecord[], opts?: DnsZoneOptions): Promise<void>;
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 5_000;

interface SigningKey {
  base: string;
  ds: string;
}

export async function startDnsZone(records: ZoneRecord[], opts: DnsZoneOptions = {}): Promise<DnsZone> {
  const dir = await mkdtemp(join(tmpdir(), "edgemail-dns-"));
  const keys = new Map<string, Promise<SigningKey>>();
  let options: DnsZoneOptions = { ...opts };
  let child: ChildProcess | undefined;
  let port = 0;
  let stopped = false;
  // One key per apex for the life of this DnsZone; bogus zones get a second, never-used key
  // whose DS becomes the (wrong) trust anchor.
  const keyFor = (apex: string, purpose: "sign" | "decoy") => {
    const id = `${purpose}:${apex}`;
    let key = keys.get(id);
    if (!key) {
      key = generateKey(dir, apex);
      keys.set(id, key);
    }
    return key;
  };

  async function writeConfig(data: ZoneRecord[], zoneOptions: DnsZoneOptions): Promise<string> {
    const zones = buildZones(data, zoneOptions);
    const anchors: string[] = [];
    await Promise.all(
      zones.map(async (zone) => {
        if (zone.kind !== "unsigned") {
          const key = await keyFor(zone.apex, "sign");
          zone.dnskeyDs = key.ds;
          anchors.push(zone.kind === "signed" ? key.ds : (await keyFor(zone.apex, "decoy")).ds);
        }
      }),
    );
    await Promise.all(
      zones.map(async (zone) => {
        const file = join(dir, `${zone.apex === "." ? "root" : zone.apex}zone`);
        await writeFile(file, renderZone(zone, zones, zoneOptions.defaultTtl ?? 5));
        zone.file = zone.kind === "unsigned" ? file : await signZone(dir, file, zone.apex, (await keyFor(zone.apex, "sign")).base);
      }),
    );
    const conf = join(dir, "unbound.conf");
    await writeFile(conf, renderConfig(dir, port, zones, anchors));
    return conf;
  }

  async function launch(conf: string): Promise<void> {
    // unbound runs under sh, which kills it once its stdin (a pipe from us) closes: on stop(), and
    // also when this process dies without stop() (a test run killed on timeout), so that no
    // resolver outlives its test. A background list reads /dev/null unless redirected: hence fd 3.
    const watcher = 'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (read x <&3; kill $pid 2>/dev/null) & wait $pid';
    const proc = spawn("sh", ["-c", watcher, await unboundBinary(dir), "-d", "-c", conf], { stdio: ["pipe", "ignore", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8_000);
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once("error", reject);
      proc.once("exit", (code, signal) => reject(new Error(`unbound exited (${code ?? signal}): ${stderr.trim()}`)));
    });
    exited.catch(() => {});
    try {
      await Promise.race([waitUntilAnswering(port, START_TIMEOUT_MS), exited]);
    } catch (err) {
      child = undefined;
      await terminate(proc, dir);
      throw err;
    }
  }

  // A first start picks a port; a restart keeps it and its config is already written (so that
  // bad records fail update() while the old resolver still runs).
  async function start(data: ZoneRecord[] | undefined, conf?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (data) {
        port = await freeUdpTcpPort();
        conf = await writeConfig(data, options);
      }
      try {
        await launch(conf!);
        return;
      } catch (err) {
        // Another process can take a released port before unbound binds it; a restart on the
        // same port can also race the old socket's release.
        const bindRace = /can't bind|Address already in use|could not open ports/i.test(String(err));
        if (!bindRace || attempt >= 5) throw err;
        if (!data) await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  async function halt(): Promise<void> {
    const proc = child;
    child = undefined;
    if (proc) await terminate(proc, dir);
  }

  // update() and stop() must not interleave: both restart or tear down the same process.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => {});
    return next;
  };

  try {
    await start(records);
  } catch (err) {
    await halt();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    server: `${HOST}:${port}`,
    port,
    update: (data, newOpts) =>
      serialized(async () => {
        if (stopped) throw new Error("DNS zone already stopped");
        const nextOptions = { ...options, ...newOpts };
        // unbound reads its files only at startup: rewriting them under it is harmless.
        const conf = await writeConfig(data, nextOptions);
        options = nextOptions;
        await halt();
        await start(undefined, conf);
      }),
    stop: () =>
      serialized(async () => {
        if (stopped) return;
        stopped = true;
        await halt();
        await rm(dir, { recursive: true, force: true });
      }),
  };
}

/** Closes the watcher's stdin, so it stops unbound, and waits for both to be gone. */
async function terminate(proc: ChildProcess, dir: string): Promise<void> {
  const running = proc.exitCode === null && proc.signalCode === null;
  const gone = running ? new Promise<void>((resolve) => proc.once("exit", () => resolve())) : Promise.resolve();
  proc.stdin?.destroy();
  if (!running) return;
  const timer = setTimeout(() => {
    try {
      process.kill(Number(readFileSync(join(dir, "unbound.pid"), "utf8").trim()), "SIGKILL");
    } catch {}
    proc.kill("SIGKILL");
  }, 2_000);
  await gone;
  clearTimeout(timer);
}

/** One query over UDP to `server` ("host:port" or a port on 127.0.0.1), DO and AD set by default. */
export async function dnsQuery(
  server: string | number,
  name: string,
  type: dnsPacket.RecordType,
  opts: { dnssec?: boolean; timeoutMs?: number } = {},
): Promise<dnsPacket.DecodedPacket & { rcode?: string }> {
  const [host, portText] = typeof server === "number" ? [HOST, String(server)] : splitServer(server);
  const dnssec = opts.dnssec ?? true;
  const id = Math.floor(Math.random() * 65_536);
  const query = dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED | (dnssec ? dnsPacket.AUTHENTIC_DATA : 0),
    questions: [{ type, name }],
    additionals: dnssec
      ? [{ type: "OPT", name: ".", udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] }]
      : [],
  });
  const socket = createSocket("udp4");
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DNS query ${name} ${type} to ${server} timed out`)), opts.timeoutMs ?? 2_000);
      socket.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on("message", (msg) => {
        const packet = dnsPacket.decode(msg);
        if (packet.id !== id) return;
        clearTimeout(timer);
        resolve(packet as dnsPacket.DecodedPacket & { rcode?: string });
      });
      // Connected, so that ICMP port-unreachable surfaces as ECONNREFUSED at once (the startup
      // probe relies on it) instead of as a silent timeout.
      socket.connect(Number(portText), host, () => socket.send(query));
    });
  } finally {
    socket.close();
  }
}

let unboundPath: Promise<string> | undefined;

/** Where unbound is: it lives in /usr/sbin, which a non-root PATH often lacks. */
async function systemUnbound(): Promise<string> {
  unboundPath ??= (async () => {
    const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/sbin", "/sbin"];
    for (const d of dirs) {
      const candidate = join(d, "unbound");
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {}
    }
    throw new Error("unbound is not installed (Debian: apt-get install unbound ldnsutils)");
  })();
  return await unboundPath;
}

/**
 * The binary to run. Debian and Ubuntu ship an AppArmor profile attached to /usr/sbin/unbound
 * that only lets it read /etc/unbound and /var/lib/unbound, so where AppArmor is on (Ubuntu CI
 * runners) it could not read our config in a temporary directory; a copy of the binary runs
 * unconfined. Elsewhere the system binary runs as is (and /tmp may be noexec).
 */
async function unboundBinary(dir: string): Promise<string> {
  const system = await systemUnbound();
  let apparmor = "";
  try {
    apparmor = await readFile("/sys/module/apparmor/parameters/enabled", "utf8");
  } catch {}
  if (!apparmor.startsWith("Y")) return system;
  const copy = join(dir, "unbound");
  try {
    await access(copy, constants.X_OK);
  } catch {
    await copyFile(system, copy);
    await chmod(copy, 0o755);
  }
  return copy;
}

function splitServer(server: string): [string, string] {
  const at = server.lastIndexOf(":");
  return [server.slice(0, at), server.slice(at + 1)];
}

async function waitUntilAnswering(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await dnsQuery(port, ".", "SOA", { dnssec: false, timeoutMs: 100 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`unbound did not answer on port ${port}: ${(err as Error).message}`);
      // ECONNREFUSED (ICMP port unreachable) comes back at once: pace the retries.
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** A port free for both UDP and TCP on 127.0.0.1 at the time of asking. */
async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket("udp4");
    const port = await new Promise<number>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(0, HOST, () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once("error", () => resolve(false));
      tcp.listen(port, HOST, () => tcp.close(() => resolve(true)));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error("no port free for both UDP and TCP on 127.0.0.1");
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    proc.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    proc.once("error", reject);
    proc.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")}: exit ${code}: ${err.trim()}`))));
  });
}

// One key per zone (KSK flags, signing everything: a CSK), so one keygen per zone.
async function generateKey(dir: string, apex: string): Promise<SigningKey> {
  const base = (await run("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", "-r", "/dev/urandom", apex], dir)).trim();
  const ds = (await readFile(join(dir, `${base}.ds`), "utf8")).trim().replace(/\s+/g, " ");
  return { base, ds };
}

async function signZone(dir: string, file: string, apex: string, keyBase: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const out = `${file}.signed`;
  // Inception an hour back so that a validator a little behind our clock still accepts it.
  await run("ldns-signzone", ["-i", String(now - 3_600), "-e", String(now + 30 * 86_400), "-o", apex, "-f", out, file, keyBase], dir);
  return out;
}

function renderConfig(dir: string, port: number, zones: Zone[], anchors: string[]): string {
  const q = (s: string) => `"${s}"`;
  const server = [
    `interface: ${HOST}`,
    `port: ${port}`,
    "do-ip4: yes",
    "do-ip6: no",
    "do-udp: yes",
    "do-tcp: yes",
    "so-reuseport: no",
    "access-control: 127.0.0.0/8 allow",
    // Outgoing queries (there should be none: every name is in a local auth-zone) can only come
    // from loopback, so nothing can leave the machine.
    `outgoing-interface: ${HOST}`,
    // unbound shuffles its permitted outgoing ports at startup, one getrandom() per port: over
    // the default 64k ports that is most of its startup time. No query ever goes out anyway.
    'outgoing-port-avoid: "0-65535"',
    'outgoing-port-permit: "61000-61015"',
    "outgoing-range: 16",
    'username: ""',
    'chroot: ""',
    `directory: ${q(dir)}`,
    `pidfile: ${q(join(dir, "unbound.pid"))}`,
    "use-syslog: no",
    'logfile: ""',
    "verbosity: 0",
    "val-log-level: 2",
    "log-servfail: yes",
    "num-threads: 1",
    "msg-cache-size: 1m",
    "rrset-cache-size: 1m",
    "key-cache-size: 1m",
    "neg-cache-size: 1m",
    'module-config: "validator iterator"',
    "qname-minimisation: no",
    'target-fetch-policy: "0 0 0 0 0"',
    "trust-anchor-signaling: no",
    "root-key-sentinel: no",
    "prefetch: no",
    ...anchors.map((a) => `trust-anchor: ${q(a)}`),
    // unbound answers special-use names (RFC 6761: test., invalid., onion., home.arpa. ...) from
    // built-in static zones before any auth-zone; a test zone under one of them must win.
    ...[...new Set(zones.map((z) => z.apex.replace(/\.$/, "").split(".").pop()!))]
      .filter((tld) => tld !== "")
      .map((tld) => `local-zone: ${q(`${tld}.`)} nodefault`),
    // Likewise its built-in reverse zones (127.in-addr.arpa. answers "localhost"): a test's PTR
    // records or zones (opts.zones) there must win. Only the ones a test uses, so other tests see
    // no change; a test that deletes its last PTR keeps the zone (and NXDOMAIN) through opts.zones.
    ...[...new Set(zones.flatMap((z) => [z.apex, ...z.records.map((r) => fqdn(r.name))].map(builtinReverseZone)))]
      .filter((zone): zone is string => zone !== undefined)
      .map((zone) => `local-zone: ${q(zone)} nodefault`),
  ];
  // for-upstream, not for-downstream: the data then passes through the iterator and validator
  // like an upstream answer, which is what sets (or withholds) the AD bit.
  const authZones = zones.flatMap((zone) => [
    "auth-zone:",
    `  name: ${q(zone.apex)}`,
    `  zonefile: ${q(zone.file!)}`,
    "  for-downstream: no",
    "  for-upstream: yes",
    "  fallback-enabled: no",
  ]);
  return [
    "server:",
    ...server.map((l) => `  ${l}`),
    "remote-control:",
    "  control-enable: no",
    ...authZones,
    "",
  ].join("\n");
}
