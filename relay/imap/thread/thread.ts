/**
 * THREAD (RFC 5256 §4): ORDEREDSUBJECT and REFERENCES over the threading keys the edge
 * returns with a search (Message-ID, In-Reply-To, References, base subject, sent date), and
 * the `* THREAD (1)(2 3 (4)(5))` response. Threading is the relay's work: pure functions over
 * plain data, so they are tested as tables.
 *
 * "The order in which messages appear in the mailbox" (the tie-breaker) is UID order, which
 * is sequence-number order.
 *
 * REFERENCES needs to know whether a subject was a reply or forward ("Re:", "Fwd:") for its
 * subject merge (step 5.C): ThreadKeys.isReply, computed at ingest (common/mime/base-subject.ts).
 * A reply joins a same-subject original as its child; two originals (or two replies) meet
 * under a dummy.
 */
import type { ThreadKeys } from "../../../common/contract.ts";

export type ThreadInput = ThreadKeys;

/** A thread tree node; `message` null is a dummy (a parent we only know by reference). */
export interface ThreadNode {
  message: ThreadInput | null;
  children: ThreadNode[];
}

export type ThreadAlgorithm = "ORDEREDSUBJECT" | "REFERENCES";

export function thread(algorithm: ThreadAlgorithm, messages: readonly ThreadInput[]): ThreadNode[] {
  return algorithm === "ORDEREDSUBJECT" ? orderedSubject(messages) : references(messages);
}

/** The earliest message of a node: itself, or for a dummy its first child's (children sorted). */
function representative(node: ThreadNode): ThreadInput | null {
  let cur: ThreadNode | undefined = node;
  while (cur && cur.message === null) cur = cur.children[0];
  return cur?.message ?? null;
}

function compareMessages(a: ThreadInput | null, b: ThreadInput | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return a.date - b.date || a.uid - b.uid;
}

function compareNodes(a: ThreadNode, b: ThreadNode): number {
  return compareMessages(representative(a), representative(b));
}

/**
 * ORDEREDSUBJECT (RFC 5256 §4): group by base subject; in each group the earliest message
 * is the parent of all the others (in date order); groups are ordered by their first message.
 */
export function orderedSubject(messages: readonly ThreadInput[]): ThreadNode[] {
  const groups = new Map<string, ThreadInput[]>();
  for (const m of messages) {
    const group = groups.get(m.baseSubject);
    if (group) group.push(m);
    else groups.set(m.baseSubject, [m]);
  }
  const threads: ThreadNode[] = [];
  for (const group of groups.values()) {
    group.sort(compareMessages);
    const [first, ...rest] = group;
    threads.push({ message: first!, children: rest.map((m) => ({ message: m, children: [] })) });
  }
  return threads.sort(compareNodes);
}

interface Container {
  message: ThreadInput | null;
  parent: Container | null;
  children: Container[];
}

function unlink(child: Container): void {
  const parent = child.parent;
  if (!parent) return;
  parent.children = parent.children.filter((c) => c !== child);
  child.parent = null;
}

function link(child: Container, parent: Container): void {
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
}

/** True when `node` is `ancestor` or below it. */
function isWithin(node: Container, ancestor: Container): boolean {
  for (let cur: Container | null = node; cur; cur = cur.parent) if (cur === ancestor) return true;
  return false;
}

/** REFERENCES (RFC 5256 §4, after JWZ): link by references, prune dummies, merge by subject, sort. */
export function references(messages: readonly ThreadInput[]): ThreadNode[] {
  const ordered = [...messages].sort((a, b) => a.uid - b.uid);
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const containerFor = (id: string): Container => {
    let c = byId.get(id);
    if (!c) {
      c = { message: null, parent: null, children: [] };
      byId.set(id, c);
      all.push(c);
    }
    return c;
  };

  // (1) Link messages by Message-ID, References and In-Reply-To.
  for (const message of ordered) {
    let own = message.messageId ? byId.get(message.messageId) : undefined;
    if (own && own.message === null) {
      own.message = message;
    } else {
      // No Message-ID, or a duplicate one: the message gets a unique ID of its own.
      own = { message, parent: null, children: [] };
      all.push(own);
      if (message.messageId && !byId.has(message.messageId)) byId.set(message.messageId, own);
    }
    const refs = message.references.length > 0 ? message.references : message.inReplyTo ? [message.inReplyTo] : [];
    // (A) each reference is the parent of the next, unless it already has a parent or a loop would form.
    let previous: Container | null = null;
    for (const ref of refs) {
      const c = containerFor(ref);
      if (previous && c !== previous && c.parent === null && !isWithin(previous, c)) link(c, previous);
      previous = c;
    }
    // (B) the last reference is the message's parent (any earlier parent is dropped).
    unlink(own);
    if (previous && previous !== own && !isWithin(previous, own)) link(own, previous);
  }

  // (2) The root set: everything without a parent. (3) Prune dummies.
  let roots = prune(
    all.filter((c) => c.parent === null),
    true,
  );

  // (4) Sort the root set by date (a dummy by its first child, its children sorted first).
  const toNode = (c: Container): ThreadNode => ({ message: c.message, children: c.children.map(toNode) });
  let nodes = roots.map(toNode);
  for (const n of nodes) if (n.message === null) n.children.sort(compareNodes);
  nodes.sort(compareNodes);
  roots = [];

  // (5) Gather threads with the same base subject.
  nodes = mergeBySubject(nodes);

  // (6) Sort every set of siblings by date, deepest first.
  const sortDeep = (list: ThreadNode[]): void => {
    for (const n of list) sortDeep(n.children);
    list.sort(compareNodes);
  };
  sortDeep(nodes);
  return nodes;
}

/** (3): a dummy without children goes; one with children gives way to them, except at the root with several. */
function prune(list: Container[], atRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    c.children = prune(c.children, false);
    for (const child of c.children) child.parent = c;
    if (c.message !== null) {
      out.push(c);
    } else if (c.children.length === 0) {
      continue;
    } else if (atRoot && c.children.length > 1) {
      out.push(c);
    } else {
      out.push(...c.children);
    }
  }
  return out;
}

function subjectOf(node: ThreadNode): ThreadInput | null {
  return node.message ?? node.children[0]?.message ?? null;
}

/** (5) A–C of RFC 5256 §4 REFERENCES. */
function mergeBySubject(roots: ThreadNode[]): ThreadNode[] {
  const table = new Map<string, ThreadNode>();
  for (const root of roots) {
    const m = subjectOf(root);
    if (!m || m.baseSubject === "") continue;
    const current = table.get(m.baseSubject);
    if (!current) {
      table.set(m.baseSubject, root);
      continue;
    }
    if (current.message !== null && (root.message === null || (subjectOf(current)?.isReply && !m.isReply))) {
      table.set(m.baseSubject, root);
    }
  }
  let result = [...roots];
  for (const root of roots) {
    const m = subjectOf(root);
    if (!m || m.baseSubject === "") continue;
    const holder = table.get(m.baseSubject)!;
    if (holder === root || holder.children.includes(root)) continue;
    result = result.filter((r) => r !== root);
    if (holder.message === null && root.message === null) {
      holder.children.push(...root.children);
    } else if (holder.message === null) {
      holder.children.push(root);
    } else if (m.isReply && !subjectOf(holder)?.isReply) {
      holder.children.push(root);
    } else {
      // A new dummy takes the holder's place, with both threads under it.
      const dummy: ThreadNode = { message: null, children: [holder, root] };
      result = result.map((r) => (r === holder ? dummy : r));
      table.set(m.baseSubject, dummy);
    }
  }
  return result;
}

/**
 * The THREAD response line: `* THREAD (1 2 (3)(4))(5)`. `number` turns a UID into what the
 * client asked for (the UID itself for UID THREAD, else its sequence number).
 */
export function threadResponse(threads: readonly ThreadNode[], number: (uid: number) => number): string {
  const members = (node: ThreadNode): string => {
    const parts: string[] = [];
    let cur = node;
    for (;;) {
      if (cur.message !== null) parts.push(String(number(cur.message.uid)));
      if (cur.message !== null && cur.children.length === 1) {
        cur = cur.children[0]!;
        continue;
      }
      if (cur.children.length > 0) parts.push(cur.children.map((c) => `(${members(c)})`).join(""));
      return parts.join(" ");
    }
  };
  return `* THREAD${threads.length > 0 ? " " : ""}${threads.map((t) => `(${members(t)})`).join("")}\r\n`;
}
