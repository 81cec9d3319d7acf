-- 007_slot_access: a slot's last access lives in a small table of its own.
-- Recording it as an UPDATE of the slots row made SQLite rewrite the whole
-- row, blob and all, on every (daily) touch.
CREATE TABLE slot_access (
	slot        INTEGER PRIMARY KEY REFERENCES slots(rowid_) ON DELETE CASCADE,
	accessed_at INTEGER NOT NULL
);
INSERT INTO slot_access (slot, accessed_at) SELECT rowid_, accessed_at FROM slots;
