/**
 * The MX's verdict on one incoming message, from the authentication results and the inbound
 * policies of the recipients' domains. Pure: no DNS, no clock, no randomness of its own (the
 * DMARC `pct` sample is an input), so every branch is a unit test.
 *
 * Per check, the strictest action among the recipients' domains applies (`strictestAction`):
 *   dmarcReject      DMARC fails and the author domain's policy is reject (after pct)
 *   dmarcQuarantine  DMARC fails and the policy is quarantine (or reject sampled out by pct)
 *   spfFail          SPF says fail (-all)
 *   spfSoftfail      SPF says softfail (~all)
 *   dkimFail         the message carries DKIM signatures and every one of them fails
 *   dnsbl            the client IP is listed on one of the relay's DNSBL zones
 * Any "reject" rejects the message (550 5.7.1 at the end of DATA), else any "quarantine" files
 * it in Junk, else it is accepted. `reasons` names the checks that decided.
 *
 * A DNS temperror never rejects or quarantines: an SPF or DMARC temperror is no verdict, a DKIM
 * signature that could not be checked for a temporary reason keeps "every signature fails" from
 * being true, and a DMARC fail is not acted on while SPF or a DKIM signature whose domain could
 * align with the author domain (at or under its Organizational Domain) was a temperror: it might
 * have passed and aligned. A temperror for a domain that cannot align changes nothing, so a
 * sender cannot dodge the From domain's policy with a SERVFAILing domain of its own. The sender
 * is not asked to retry: the message is accepted (or judged on the other checks).
 */
import type { InboundAction, InboundPolicy } from "../../common/contract.ts";
import { strictestAction } from "./mx-session.ts";

export type VerdictCheck = "dmarc" | "spf" | "dkim" | "dnsbl";

export interface VerdictInput {
  /** The inbound policies of the accepted recipients' domains (one per recipient). */
  policies: InboundPolicy[];
  /** SPF result keyword (pass, fail, softfail, neutral, none, temperror, permerror). */
  spf: string;
  /** The domain SPF checked (MAIL FROM's, or HELO's for the null sender); null when none. */
  spfDomain: string | null;
  /** One entry per DKIM signature (result keyword, d= domain); empty when the message is not signed. */
  dkim: { result: string; domain: string }[];
  /** DMARC result keyword (pass, fail, none, temperror…); "none" when not evaluated. */
  dmarc: string;
  /** The author domain's Organizational Domain as DMARC found it; null without a record. */
  dmarcOrgDomain: string | null;
  /**
   * The policy the author domain's record asks for (none, quarantine, reject), after sp/np and
   * t=y were applied; null without a record.
   */
  dmarcPolicy: string | null;
  /** The record's `pct` tag (RFC 7489 §6.3), null when absent (= 100). */
  dmarcPct: number | null;
  /** The record has t=y (RFC 9989): the policy was already lowered, pct is not applied again. */
  dmarcTestMode?: boolean;
  /** A uniform sample in [0, 100): the message is subject to the policy when sample < pct. */
  pctSample: number;
  /** DNSBL zones that list the client IP. */
  dnsbl: string[];
}

export type InboundVerdict =
  | { action: "accept"; reasons: [] }
  | { action: "quarantine"; reasons: VerdictCheck[] }
  /** `text` is the reply text after "550 5.7.1 ". */
  | { action: "reject"; reasons: VerdictCheck[]; text: string };

/** DKIM signature results that count as "this signature fails" (everything but pass, temperror, none). */
const DKIM_FAILING = new Set(["fail", "neutral", "permerror", "policy"]);

/**
 * The DMARC policy to enforce for a failing message: the published one, or (RFC 7489 §6.6.4)
 * the next weaker one when the pct sample falls outside the percentage.
 */
export function applyDmarcPct(policy: string | null, pct: number | null, sample: number, testMode = false): "none" | "quarantine" | "reject" {
  const p = policy === "reject" || policy === "quarantine" ? policy : "none";
  if (p === "none" || testMode || pct === null || pct >= 100) return p;
  if (sample < Math.max(0, pct)) return p;
  return p === "reject" ? "quarantine" : "none";
}

/** Whether the DKIM signatures present all fail (false for an unsigned message). */
export function allDkimSignaturesFail(results: string[]): boolean {
  return results.length > 0 && results.every((r) => DKIM_FAILING.has(r));
}

/** Could `domain` align (relaxed) with an author domain whose Organizational Domain is `orgDomain`? */
function couldAlign(domain: string | null, orgDomain: string | null): boolean {
  if (!domain || !orgDomain) return false;
  const d = domain.toLowerCase().replace(/\.$/, "");
  const o = orgDomain.toLowerCase().replace(/\.$/, "");
  return d === o || d.endsWith(`.${o}`);
}

export function decideVerdict(input: VerdictInput): InboundVerdict {
  const decided: { check: VerdictCheck; action: InboundAction; text: string }[] = [];
  const { policies } = input;

  const dmarcUndetermined =
    (input.spf === "temperror" && couldAlign(input.spfDomain, input.dmarcOrgDomain)) ||
    input.dkim.some((s) => s.result === "temperror" && couldAlign(s.domain, input.dmarcOrgDomain));
  if (input.dmarc === "fail" && !dmarcUndetermined) {
    const enforced = applyDmarcPct(input.dmarcPolicy, input.dmarcPct, input.pctSample, input.dmarcTestMode);
    if (enforced === "reject") {
      decided.push({ check: "dmarc", action: strictestAction(policies, "dmarcReject"), text: "Rejected by the DMARC policy of the From domain" });
    } else if (enforced === "quarantine") {
      decided.push({ check: "dmarc", action: strictestAction(policies, "dmarcQuarantine"), text: "Rejected by the DMARC policy of the From domain" });
    }
  }
  if (input.spf === "fail") {
    decided.push({ check: "spf", action: strictestAction(policies, "spfFail"), text: "SPF check failed for the sender domain" });
  } else if (input.spf === "softfail") {
    decided.push({ check: "spf", action: strictestAction(policies, "spfSoftfail"), text: "SPF check soft-failed for the sender domain" });
  }
  if (allDkimSignaturesFail(input.dkim.map((s) => s.result))) {
    decided.push({ check: "dkim", action: strictestAction(policies, "dkimFail"), text: "DKIM signature verification failed" });
  }
  if (input.dnsbl.length > 0) {
    decided.push({ check: "dnsbl", action: strictestAction(policies, "dnsbl"), text: `Client address listed on ${input.dnsbl[0]}` });
  }

  const rejects = decided.filter((d) => d.action === "reject");
  if (rejects.length > 0) {
    return { action: "reject", reasons: rejects.map((d) => d.check), text: rejects[0]!.text };
  }
  const quarantines = decided.filter((d) => d.action === "quarantine");
  if (quarantines.length > 0) return { action: "quarantine", reasons: quarantines.map((d) => d.check) };
  return { action: "accept", reasons: [] };
}
