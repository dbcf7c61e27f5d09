"""A session with Python's standard imaplib against the edgemail relay.

Driven by test/e2e/python-imaplib.test.ts: connection settings come from the environment,
every step's result is printed as one JSON object so the test can assert on it.
"""
import email
import imaplib
import json
import os
import ssl
import time

host = os.environ["IMAP_HOST"]
port = int(os.environ["IMAP_PORT"])
user = os.environ["IMAP_USER"]
password = os.environ["IMAP_PASSWORD"]

context = ssl.create_default_context(cafile=os.environ["IMAP_CAFILE"])
context.check_hostname = False
result = {}

imap = imaplib.IMAP4_SSL(host, port, ssl_context=context)
result["capabilities"] = list(imap.capabilities)
typ, _ = imap.login(user, password)
result["login"] = typ

typ, boxes = imap.list()
result["list"] = [b.decode() for b in boxes]

typ, _ = imap.create("Projects/2026")
result["create"] = typ

message = (
    b"From: Py <py@example.org>\r\nTo: " + user.encode() + b"\r\nSubject: from imaplib\r\n"
    b"Message-ID: <imaplib-1@example.org>\r\n\r\nHello from Python.\r\n"
)
typ, data = imap.append("Projects/2026", "(\\Flagged)", imaplib.Time2Internaldate(time.time()), message)
result["append"] = [typ, data[0].decode() if data and data[0] else None]

typ, data = imap.select("Projects/2026")
result["select"] = [typ, data[0].decode()]

typ, data = imap.uid("SEARCH", None, "FLAGGED", "SUBJECT", "imaplib")
result["search"] = [typ, data[0].decode()]

uid = data[0].split()[0]
typ, data = imap.uid("FETCH", uid, "(RFC822 FLAGS)")
raw = data[0][1]
parsed = email.message_from_bytes(raw)
result["fetch"] = [typ, parsed["Subject"], raw == message, data[0][0].decode()]

typ, data = imap.uid("STORE", uid, "+FLAGS", "(\\Answered)")
result["store"] = [typ, data[0].decode()]

typ, data = imap.uid("COPY", uid, "INBOX")
result["copy"] = typ

typ, data = imap.status("INBOX", "(MESSAGES UIDNEXT UNSEEN)")
result["status"] = [typ, data[0].decode()]

imap.store(b"1", "+FLAGS", "\\Deleted")
typ, data = imap.expunge()
result["expunge"] = [typ, [d.decode() for d in data if d]]

typ, _ = imap.close()
result["close"] = typ
typ, _ = imap.delete("Projects/2026")
result["delete"] = typ
typ, _ = imap.logout()
result["logout"] = typ

print(json.dumps(result))
