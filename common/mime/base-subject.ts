/**
 * RFC 5256 §2.1 base subject, for SORT SUBJECT and THREAD. Input: the Subject text with
 * encoded words already decoded (step 1's first half, see encoded-words.ts). Output: the base
 * subject, not yet case-folded (the caller folds it with foldForSearch, the i;unicode-casemap
 * stand-in).
 *
 *   subj-trailer = "(fwd)" / WSP
 *   subj-leader  = (*subj-blob subj-refwd) / WSP
 *   subj-blob    = "[" *BLOBCHAR "]" *WSP
 *   subj-refwd   = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
 *   subj-fwd     = "[fwd:" subj-base "]"
 *
 * {@link extractBaseSubject} also tells whether the subject was a reply or forward (RFC 5256
 * §2.1's closing note, used by THREAD=REFERENCES step 5.C): a subj-refwd leader ("Re:",
 * "Fw:", "Fwd:", blobs allowed around it), a "(fwd)" trailer, or the "[fwd: ...]" wrapper
 * was removed. Removing white space or a bare "[blob]" alone does not make a reply.
 */

const BLOB = String.raw`\[[^\[\]]*\] *`;
const LEADER = new RegExp(String.raw`^(?:(?:${BLOB})*(?:re|fwd?) *(?:${BLOB})?:| )`, "i");
const LEADING_BLOB = new RegExp(`^${BLOB}`);
function withoutTrailers(s: string): { rest: string; fwd: boolean } {
  let end = s.length;
  let fwd = false;
  for (;;) {
    if (end > 0 && s.charCodeAt(end - 1) === 0x20) end--;
    else if (end >= 5 && s.slice(end - 5, end).toLowerCase() === "(fwd)") {
      end -= 5;
      fwd = true;
    } else return { rest: s.slice(0, end), fwd };
  }
}

export interface BaseSubject {
  /** The base subject, not yet case-folded. */
  base: string;
  /** The original subject was a reply or forward (a subj-refwd, "(fwd)" or "[fwd: ...]" was removed). */
  isReply: boolean;
}

export function baseSubject(subject: string): string {
  return extractBaseSubject(subject).base;
}

/** RFC 5256 §2.1: whether the subject is a reply or forward ("Re: x", "x (fwd)", "[fwd: x]"). */
export function subjectIsReply(subject: string): boolean {
  return extractBaseSubject(subject).isReply;
}

export function extractBaseSubject(subject: string): BaseSubject {
  // (1) tabs and continuations to space, runs of spaces to one
  let s = subject.replace(/[ \t\r\n]+/g, " ");
  let isReply = false;
  for (;;) {
    // (2) trailers
    const trailers = withoutTrailers(s);
    s = trailers.rest;
    if (trailers.fwd) isReply = true;
    // (3)-(5) leaders and blobs
    for (;;) {
      let changed = false;
      for (let m = LEADER.exec(s); m !== null && m[0].length > 0; m = LEADER.exec(s)) {
        s = s.slice(m[0].length);
        changed = true;
        // The leader's other alternative is a lone WSP; only a subj-refwd (ending in ":") counts.
        if (m[0] !== " ") isReply = true;
      }
      // Once the leader failed, dropping a leading blob cannot make it match (a match after
      // the blob would have been one before it, subj-leader starting with *subj-blob), so all
      // blobs go at once: linear even for thousands of "[x]".
      for (let b = LEADING_BLOB.exec(s); b !== null && b[0].length < s.length; b = LEADING_BLOB.exec(s)) {
        s = s.slice(b[0].length);
        changed = true;
      }
      if (!changed) break;
    }
    // (6) [fwd: ... ]
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === "[fwd:" && s.endsWith("]")) {
      s = s.slice(5, -1);
      isReply = true;
      continue;
    }
    return { base: s, isReply };
  }
}
