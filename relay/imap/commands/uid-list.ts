/**
 * UID lists for UIDPLUS response codes (RFC 4315 `uid-set`): APPENDUID and COPYUID pair
 * their UIDs up by position, so unlike formatSequenceSet this keeps the given order and only
 * joins ascending runs: [4, 5, 6, 9] → "4:6,9".
 */
export function uidList(uids: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < uids.length) {
    const start = uids[i] as number;
    let end = start;
    while (i + 1 < uids.length && uids[i + 1] === end + 1) end = uids[++i] as number;
    parts.push(start === end ? `${start}` : `${start}:${end}`);
    i++;
  }
  return parts.join(",");
}
