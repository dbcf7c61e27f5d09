/**
 * RFC 5322 address lists to IMAP address structures, as Dovecot 2.3 does it
 * (message-address.c with MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING).
 *
 * - Groups: `name: a, b;` gives { mailbox: name } then the members then an all-null
 *   terminator, exactly as RFC 3501 encodes them.
 * - c-client placeholders for broken input: a missing local part is "MISSING_MAILBOX",
 *   a missing domain "MISSING_DOMAIN" (`postmaster` alone gives mailbox "postmaster"),
 *   an unparseable angle address has domain "SYNTAX_ERROR", a bad source route
 *   "INVALID_ROUTE". A phrase without address (`Not An Address`) becomes the name.
 * - A trailing comment names an address that has no display name; a leading one is
 *   dropped. `""` as display name gives no name. Phrases are joined with single spaces
 *   and quoted-pairs are unescaped.
 *
 * Input and output strings are binary strings (one char per octet).
 */

import { Acc, Rfc822Parser } from "./rfc822.ts";

export type Address = {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
};

interface Work {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  domain: string | null;
  invalid: boolean;
}

function emptyWork(): Work {
  return { name: null, route: null, mailbox: null, domain: null, invalid: false };
}

class AddressParser {
  readonly p: Rfc822Parser;
  readonly out: Address[] = [];
  addr: Work = emptyWork();
  str = new Acc();

  constructor(value: string) {
    this.p = new Rfc822Parser(value, true);
  }

  private add(): void {
    const a = this.addr;
    this.out.push({ name: a.name, adl: a.route, mailbox: a.mailbox, host: a.domain });
    this.addr = emptyWork();
  }

  private addFixed(): void {
    if (this.addr.mailbox === null) {
      this.addr.mailbox = "MISSING_MAILBOX";
      this.addr.invalid = true;
    }
    if (this.addr.domain === null || this.addr.domain === "") {
      this.addr.domain = "MISSING_DOMAIN";
      this.addr.invalid = true;
    }
    this.add();
  }

  private parseLocalPart(): number {
    this.str = new Acc();
    const ret = this.p.cur() === 0x22 ? this.p.parseQuotedString(this.str) : this.p.parseDotAtom(this.str);
    if (ret < 0) return -1;
    this.addr.mailbox = this.str.v;
    return ret;
  }

  private parseDomain(): number {
    this.str = new Acc();
    const ret = this.p.parseDomain(this.str);
    if (ret < 0) return -1;
    this.addr.domain = this.str.v;
    return ret;
  }

  private parseDomainList(): number {
    /* obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain) */
    const str = new Acc();
    for (;;) {
      if (this.p.pos >= this.p.end) return 0;
      if (this.p.cur() !== 0x40) break;
      if (str.v.length > 0) str.v += ",";
      str.v += "@";
      const ret = this.p.parseDomain(str);
      if (ret <= 0) return ret;
      while (this.p.skipLwsp() > 0 && this.p.cur() === 0x2c) this.p.pos++;
    }
    this.addr.route = str.v;
    return 1;
  }

  private parseAngleAddr(): number {
    /* "<" [ "@" route ":" ] local-part "@" domain ">" */
    this.p.pos++;
    if (this.p.skipLwsp() <= 0) return -1;
    if (this.p.cur() === 0x40) {
      if (this.parseDomainList() > 0 && this.p.cur() === 0x3a) {
        this.p.pos++;
      } else {
        this.addr.route = "INVALID_ROUTE";
        if (this.p.pos >= this.p.end) return -1;
        /* try to continue anyway */
      }
      if (this.p.skipLwsp() <= 0) return -1;
    }
    if (this.p.cur() === 0x3e) {
      /* <> address isn't valid */
    } else {
      if (this.parseLocalPart() <= 0) return -1;
      if (this.p.cur() === 0x40) {
        if (this.parseDomain() <= 0) return -1;
      }
    }
    if (this.p.cur() !== 0x3e) return -1;
    this.p.pos++;
    return this.p.skipLwsp();
  }

  private parseNameAddr(): number {
    this.str = new Acc();
    if (this.p.parsePhrase(this.str) <= 0 || this.p.cur() !== 0x3c) return -1;
    this.addr.name = this.str.v === "" ? null : this.str.v;
    if (this.parseAngleAddr() < 0) {
      this.addr.domain = "SYNTAX_ERROR";
      this.addr.invalid = true;
    }
    return this.p.pos < this.p.end ? 1 : 0;
  }

  private parseAddrSpec(): number {
    /* addr-spec = local-part "@" domain */
    let ret2 = -2;
    this.p.lastComment = "";
    const quotedString = this.p.cur() === 0x22;
    let ret = this.parseLocalPart();
    if (ret <= 0) this.addr.invalid = true;
    if (ret !== 0 && this.p.pos < this.p.end && this.p.cur() === 0x40) {
      ret2 = this.parseDomain();
      if (ret2 <= 0) ret = ret2;
    }
    if (this.p.lastComment !== null && this.p.lastComment.length > 0) {
      this.addr.name = this.p.lastComment;
    } else if (ret2 === -2) {
      /* a lone "user" is a mailbox, but "user more words" is a display name */
      this.str.v += " ";
      const origLen = this.str.v.length;
      this.p.parsePhrase(this.str);
      if (this.str.v.length !== origLen) {
        this.addr.mailbox = null;
        this.addr.name = this.str.v;
      } else if (!quotedString) {
        this.addr.domain = "";
      }
      this.addr.invalid = true;
      ret = -1;
    }
    return ret;
  }

  private parseMailbox(): number {
    const start = this.p.pos;
    let ret = this.parseNameAddr();
    if (ret < 0) {
      this.p.pos = start;
      ret = this.parseAddrSpec();
      const a = this.addr;
      if (a.invalid && a.name === null && a.mailbox !== null && a.domain === null) {
        a.name = a.mailbox;
        a.mailbox = null;
      }
    }
    if (ret < 0) this.addr.invalid = true;
    this.addFixed();
    return ret;
  }

  private parseGroup(): number {
    this.str = new Acc();
    if (this.p.parsePhrase(this.str) <= 0 || this.p.cur() !== 0x3a) return -1;
    /* from now on don't return -1, so that the caller knows this is a group */
    this.p.pos++;
    let ret = this.p.skipLwsp();
    if (ret <= 0) this.addr.invalid = true;
    this.addr.mailbox = this.str.v;
    this.add();
    if (ret > 0 && this.p.cur() !== 0x3b) {
      for (;;) {
        this.parseMailbox(); /* a broken mailbox: continue anyway */
        if (this.p.pos >= this.p.end || this.p.cur() !== 0x2c) break;
        this.p.pos++;
        if (this.p.skipLwsp() <= 0) {
          ret = -1;
          break;
        }
      }
    }
    if (ret >= 0) {
      if (this.p.pos >= this.p.end || this.p.cur() !== 0x3b) {
        ret = -1;
      } else {
        this.p.pos++;
        ret = this.p.skipLwsp();
      }
    }
    if (ret < 0) this.addr.invalid = true;
    this.add();
    return ret === 0 ? 0 : 1;
  }

  private parseAddress(): number {
    const start = this.p.pos;
    let ret = this.parseGroup();
    if (ret < 0) {
      this.p.pos = start;
      this.addr = emptyWork();
      ret = this.parseMailbox();
    }
    return ret;
  }

  parseList(): void {
    if (this.p.skipLwsp() <= 0) return; /* no addresses */
    for (;;) {
      let ret = this.parseAddress();
      if (ret === 0) break;
      if (this.p.pos >= this.p.end || this.p.cur() !== 0x2c) break;
      this.p.pos++;
      ret = this.p.skipLwsp();
      if (ret <= 0) {
        if (ret < 0) this.addFixed(); /* ends with some garbage */
        break;
      }
    }
  }
}

/** Parse an address-list field body. Null when it holds no address at all. */
export function parseAddressList(value: string): Address[] | null {
  const parser = new AddressParser(value);
  parser.parseList();
  return parser.out.length > 0 ? parser.out : null;
}
