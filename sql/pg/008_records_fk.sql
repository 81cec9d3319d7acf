-- 008_records_fk: records and history lose their foreign key to
-- collections; a trigger on collections deletes them with their collection,
-- as the ON DELETE CASCADE did. The foreign key's check ran once per
-- inserted row (a query locking the collection's row FOR KEY SHARE): 13% of
-- the server's CPU for a push of 10 new records (issue 12's measurements,
-- docs/ARCHITECTURE.md). Nothing is lost by it: every writer of a
-- collection's records holds its row lock (FOR NO KEY UPDATE) from before
-- its first write to its commit, so the collection cannot be deleted in
-- between, and a deletion that comes after deletes what the writer
-- committed (the trigger's DELETE sees committed rows). Written to be
-- harmless if run again over its own result.
ALTER TABLE records DROP CONSTRAINT IF EXISTS records_collection_id_fkey;
ALTER TABLE history DROP CONSTRAINT IF EXISTS history_collection_id_fkey;
CREATE OR REPLACE FUNCTION blindsync_collection_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM records WHERE collection_id = OLD.id;
	DELETE FROM history WHERE collection_id = OLD.id;
	RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS collections_gone ON collections;
CREATE TRIGGER collections_gone AFTER DELETE ON collections
	FOR EACH ROW EXECUTE FUNCTION blindsync_collection_gone();
