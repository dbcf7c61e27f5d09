/**
 * `edgemail domain …`: the domains we receive mail for, and the settings their DNS records and
 * MTA-STS policy are computed from (`edgemail dns <domain>` prints those records).
 *
 * Callers may rely on: `add` and `set` send only what was asked (the edge fills its defaults);
 * `remove` asks nothing and is refused by the edge (exit 5, with the reason) while the domain
 * still has accounts or aliases; under --json each command prints the edge's answer, and for
 * answers without a body (remove) a small `{ domain, removed }` object.
 */
import type { CreateDomainRequest, Domain, DomainSettingsUpdate, DomainWithSettings, MtaStsSettings } from "../../common/contract.ts";
import { seg, usage } from "../admin-client.ts";
import { oneOf, parseCommand, parseDuration, parseList } from "../args.ts";
import type { CommandGroup } from "../command.ts";
import { emit, fields, formatDuration, paint, table } from "../output.ts";

const MTA_STS = ["enforce", "testing", "none", "off"] as const;

/** `off` publishes no policy at all; `none` publishes one that tells senders to stop using the old one (RFC 8461 §8.3). */
function mtaStsChoice(text: string) {
  return oneOf(text, MTA_STS, "--mta-sts");
}

export const domainGroup: CommandGroup = {
  summary: "domains we receive mail for, and their DNS and MTA-STS settings",
  commands: {
    add: {
      usage: [
        "usage: edgemail domain add <name> [--mx host,host] [--mta-sts enforce|testing|none|off]",
        "  --mx       the relay host names, in MX preference order (default mail.<name>)",
        "  --mta-sts  the MTA-STS policy mode (default testing; off: no policy)",
      ].join("\n"),
      async run(ctx, args) {
        const { values, positionals } = parseCommand(args, { mx: { type: "string" }, "mta-sts": { type: "string" } }, { min: 1, max: 1, names: "a domain name" });
        const req: CreateDomainRequest = { name: positionals[0]! };
        if (values.mx !== undefined) req.mxHosts = parseList(values.mx, "--mx");
        if (values["mta-sts"] !== undefined) {
          const mode = mtaStsChoice(values["mta-sts"]);
          req.mtaSts = mode === "off" ? null : { mode };
        }
        const domain = await (await ctx.client()).call<Domain>("POST", "/domains", req);
        emit(ctx, domain, () => `added ${domain.name}\n${paint(ctx.color, "dim", `next: publish the records \`edgemail dns ${domain.name}\` prints`)}`);
        return 0;
      },
    },
    list: {
      usage: "usage: edgemail domain list",
      async run(ctx, args) {
        parseCommand(args, {}, { min: 0, max: 0, names: "" });
        const body = await (await ctx.client()).call<{ domains: Domain[] }>("GET", "/domains");
        emit(ctx, body, () => table(["DOMAIN", "MTA-STS"], body.domains.map((d) => [d.name, d.mtaSts?.mode ?? "-"]), { color: ctx.color }));
        return 0;
      },
    },
    show: {
      usage: "usage: edgemail domain show <name>\n  the domain's settings: MX hosts, relay addresses, MTA-STS, catch-all, plus-addressing, inbound checks",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 1, max: 1, names: "a domain name" });
        const domain = await (await ctx.client()).call<DomainWithSettings>("GET", `/domains/${seg(positionals[0]!)}`);
        emit(ctx, domain, () => describe(domain, ctx.color));
        return 0;
      },
    },
    set: {
      usage: [
        "usage: edgemail domain set <name> [--mx host,host|default] [--relay-ip ip,ip|none] [--mta-sts enforce|testing|none|off]",
        "                              [--max-age 7d] [--catch-all address|none] [--plus-delimiter C|none]",
        "  --mx              relay host names in MX preference order (default: mail.<name>)",
        "  --relay-ip        the relays' public addresses, for SPF (none: SPF says `mx`)",
        "  --mta-sts         policy mode; off: publish no policy",
        "  --max-age         how long senders cache the policy (1d to 365d)",
        "  --catch-all       the account that gets mail for unknown local parts (none: 550 5.1.1)",
        "  --plus-delimiter  user+tag@ addressing (none: off)",
        "  then publish what changed: edgemail dns <name>",
      ].join("\n"),
      async run(ctx, args) {
        const { values, positionals } = parseCommand(
          args,
          {
            mx: { type: "string" },
            "relay-ip": { type: "string" },
            "mta-sts": { type: "string" },
            "max-age": { type: "string" },
            "catch-all": { type: "string" },
            "plus-delimiter": { type: "string" },
          },
          { min: 1, max: 1, names: "a domain name" },
        );
        const name = positionals[0]!;
        const update: DomainSettingsUpdate = {};
        if (values.mx !== undefined) update.mxHosts = values.mx === "default" ? null : parseList(values.mx, "--mx");
        if (values["relay-ip"] !== undefined) update.relayIps = values["relay-ip"] === "none" ? [] : parseList(values["relay-ip"], "--relay-ip");
        if (values["catch-all"] !== undefined) update.catchAll = values["catch-all"] === "none" ? null : values["catch-all"];
        if (values["plus-delimiter"] !== undefined) update.plusDelimiter = values["plus-delimiter"] === "none" ? "" : values["plus-delimiter"];
        const mode = values["mta-sts"] === undefined ? undefined : mtaStsChoice(values["mta-sts"]);
        const maxAge = values["max-age"] === undefined ? undefined : parseDuration(values["max-age"], "--max-age");
        if (mode === "off" && maxAge !== undefined) throw usage("--max-age: there is no policy to age with --mta-sts off");
        if (Object.keys(update).length === 0 && mode === undefined && maxAge === undefined) throw usage("nothing to set: give at least one option");
        const client = await ctx.client();
        if (mode === "off") update.mtaSts = null;
        else if (mode !== undefined || maxAge !== undefined) update.mtaSts = policyUpdate(await client.call<DomainWithSettings>("GET", `/domains/${seg(name)}`), mode, maxAge);
        const domain = await client.call<DomainWithSettings>("PATCH", `/domains/${seg(name)}`, update);
        emit(ctx, domain, () => `updated ${domain.name}\n${paint(ctx.color, "dim", `publish what changed: edgemail dns ${domain.name}`)}`);
        return 0;
      },
    },
    remove: {
      usage: "usage: edgemail domain remove <name>\n  refused while the domain has accounts or aliases: remove those first",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 1, max: 1, names: "a domain name" });
        const name = positionals[0]!;
        await (await ctx.client()).call("DELETE", `/domains/${seg(name)}`);
        emit(ctx, { domain: name, removed: true }, () => `removed ${name}`);
        return 0;
      },
    },
  },
};

/**
 * The whole policy the PATCH must carry when only its mode or max-age changes. The edge reports
 * the policy's mx lines resolved, so they are sent back only when they differ from the MX hosts:
 * equal means "follows the MX hosts", which must stay so when the MX hosts change later.
 */
function policyUpdate(current: DomainWithSettings, mode: Exclude<(typeof MTA_STS)[number], "off"> | undefined, maxAge: number | undefined): MtaStsSettings {
  const policy = current.mtaSts;
  if (!policy && mode === undefined) throw usage(`--max-age: ${current.name} publishes no MTA-STS policy; give --mta-sts too`);
  const follows = !policy || policy.mx.join(",") === current.settings.mxHosts.join(",");
  return {
    mode: mode ?? policy!.mode,
    ...(maxAge !== undefined ? { maxAge } : policy ? { maxAge: policy.maxAge } : {}),
    ...(follows ? {} : { mx: policy!.mx }),
  };
}

function describe(d: DomainWithSettings, color: boolean): string {
  const s = d.settings;
  const policy = d.mtaSts
    ? `${d.mtaSts.mode}, max-age ${formatDuration(d.mtaSts.maxAge)}, mx ${d.mtaSts.mx.join(" ")}${paint(color, "dim", ` (id ${d.mtaSts.policyId})`)}`
    : "off (no policy published)";
  const inbound = Object.entries(s.inbound)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return fields(
    [
      ["domain", d.name],
      ["mx hosts", s.mxHosts.join(" ")],
      ["relay ips", s.relayIps.length ? s.relayIps.join(" ") : "- (SPF says mx)"],
      ["mta-sts", policy],
      ["catch-all", s.catchAll ?? "-"],
      ["plus delimiter", s.plusDelimiter === "" ? "off" : s.plusDelimiter],
      ["alias of", s.aliasOf ?? "-"],
      ["report address", `${s.reportLocalPart}@${d.name}`],
      ["inbound", inbound],
    ],
    color,
  );
}
