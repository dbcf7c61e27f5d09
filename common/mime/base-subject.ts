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
 */

const BLOB = String.raw`\[[^\[\]]*\] *`;
const LEADER = new RegExp(String.raw`^(?:(?:${BLOB})*(?:re|fwd?) *(?:${BLOB})?:| )`, "i");
const LEADING_BLOB = new RegExp(`^${BLOB}`);
function withoutTrailers(s: string): string {
  let end = s.length;
  for (;;) {
    if (end > 0 && s.charCodeAt(end - 1) === 0x20) end--;
    else if (end >= 5 && s.slice(end - 5, end).toLowerCase() === "(fwd)") end -= 5;
    else return s.slice(0, end);
  }
}

export function baseSubject(subject: string): string {
  // (1) tabs and continuations to space, runs of spaces to one
  let s = subject.replace(/[ \t\r\n]+/g, " ");
  for (;;) {
    // (2) trailers
    s = withoutTrailers(s);
    // (3)-(5) leaders and blobs
    for (;;) {
      let changed = false;
      for (let m = LEADER.exec(s); m !== null && m[0].length > 0; m = LEADER.exec(s)) {
        s = s.slice(m[0].length);
        changed = true;
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
      continue;
    }
    return s;
  }
}
