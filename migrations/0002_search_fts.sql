-- Custom SQL migration file, put your code below! --
-- Body text for SEARCH BODY/TEXT (DESIGN.md §3), what drizzle cannot express. rowid = messages.id.
-- trigram: any substring of 3 or more characters is found through the index (IMAP searches are
-- substring matches, not word matches); shorter needles use LIKE on the same table. The text is
-- already case-folded by the relay (common/search.ts foldForSearch), so no folding is relied on here.
CREATE VIRTUAL TABLE `messages_fts` USING fts5(body, tokenize = 'trigram');
--> statement-breakpoint
-- Every path that deletes a message row (EXPUNGE, mailbox DELETE, account cascade) drops its text too.
-- Inserts are explicit, in the same batch as the message row, because the text is not in that row.
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
  DELETE FROM `messages_fts` WHERE rowid = old.id;
END;
