/*
 * stmt.c: the SQL text of every statement, in enum stmt order.
 */
#include "stmt.h"
#include "stmt_cols.h"

const char *const stmt_sql[] = {
	[STMT_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[STMT_BEGIN_DEFERRED] = "BEGIN DEFERRED",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT job",
	[STMT_RELEASE] = "RELEASE job",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO job",
	[STMT_HEALTH] = "SELECT value FROM meta WHERE key = 'schema'",

#define ACCOUNT_COLS "id, public_id, username, auth_hash, auth_salt, auth_iterations, kdf, " \
	"keyring_version, created_at, disabled, plan, quota_bytes, usage_bytes, usage_records, account_version"
	[STMT_ACCOUNT_INSERT] =
	    "INSERT INTO accounts (public_id, username, auth_hash, auth_salt, auth_iterations, kdf, keyring, "
	    "keyring_version, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[STMT_ACCOUNT_BY_NAME] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE username = ?1",
	[STMT_ACCOUNT_BY_ID] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1",
	[STMT_ACCOUNT_KEYRING] = "SELECT keyring, keyring_version FROM accounts WHERE id = ?1",
	[STMT_ACCOUNT_SET_AUTH] =
	    "UPDATE accounts SET auth_hash = ?2, auth_salt = ?3, auth_iterations = ?4 WHERE id = ?1",
	[STMT_ACCOUNT_SET_KDF] = "UPDATE accounts SET kdf = ?2, account_version = account_version + 1 WHERE id = ?1",
	[STMT_ACCOUNT_SET_KEYRING] =
	    "UPDATE accounts SET keyring = ?2, keyring_version = keyring_version + 1, "
	    "account_version = account_version + 1 WHERE id = ?1 AND keyring_version = ?3",
	[STMT_ACCOUNT_DELETE] = "DELETE FROM accounts WHERE id = ?1",
	[STMT_ACCOUNT_SET_DISABLED] = "UPDATE accounts SET disabled = ?2 WHERE username = ?1",
	[STMT_ACCOUNT_LIST] = "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY username",
	[STMT_ACCOUNT_BUMP] = "UPDATE accounts SET account_version = account_version + 1 WHERE id = ?1",
#undef ACCOUNT_COLS

	[STMT_DEVICE_INSERT] =
	    "INSERT INTO devices (public_id, account_id, name, type, created_at, last_seen_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[STMT_DEVICE_LIST] =
	    "SELECT id, public_id, name, type, created_at, last_seen_at FROM devices WHERE account_id = ?1 ORDER BY id",
	[STMT_DEVICE_BY_PUBLIC] = "SELECT id FROM devices WHERE public_id = ?1 AND account_id = ?2",
	[STMT_DEVICE_DELETE] = "DELETE FROM devices WHERE id = ?1",
	[STMT_DEVICE_DELETE_OTHERS] = "DELETE FROM devices WHERE account_id = ?1 AND id <> ?2",
	[STMT_DEVICE_TOUCH] = "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1",

	[STMT_TOKEN_INSERT] =
	    "INSERT INTO tokens (hash, kind, account_id, device_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	/* the one indexed lookup of every authenticated request */
	[STMT_TOKEN_ACCESS] =
	    "SELECT t.account_id, t.device_id, t.expires_at, a.disabled, d.public_id, d.last_seen_at "
	    "FROM tokens t JOIN accounts a ON a.id = t.account_id JOIN devices d ON d.id = t.device_id "
	    "WHERE t.hash = ?1 AND t.kind = 1",
	[STMT_TOKEN_REFRESH] =
	    "SELECT t.account_id, t.device_id, t.expires_at, a.disabled, d.public_id, t.used_at "
	    "FROM tokens t JOIN accounts a ON a.id = t.account_id JOIN devices d ON d.id = t.device_id "
	    "WHERE t.hash = ?1 AND t.kind = 2",
	[STMT_TOKEN_MARK_USED] = "UPDATE tokens SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL",
	[STMT_TOKEN_DELETE_DEVICE] = "DELETE FROM tokens WHERE device_id = ?1",
	[STMT_TOKEN_PRUNE_DEVICE] = "DELETE FROM tokens WHERE device_id = ?1 AND expires_at <= ?2",
	[STMT_TOKEN_DELETE_ACCOUNT] = "DELETE FROM tokens WHERE account_id = ?1",

	[STMT_INVITE_INSERT] = "INSERT INTO invites (hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
	/* a row if the invite could be used now */
	[STMT_INVITE_USABLE] = "SELECT 1 FROM invites WHERE hash = ?1 AND used_at IS NULL AND expires_at > ?2",
	[STMT_INVITE_USE] =
	    "UPDATE invites SET used_at = ?2, used_by = ?3 WHERE hash = ?1 AND used_at IS NULL AND expires_at > ?2",
	[STMT_INVITE_LIST] =
	    "SELECT id, created_at, expires_at, used_at, (SELECT username FROM accounts WHERE id = used_by) "
	    "FROM invites ORDER BY id",

	[STMT_EVENT_INSERT] = "INSERT INTO events (account_id, at, type, device) VALUES (?1, ?2, ?3, ?4)",
	/* keep the newest ?2 events of the account */
	[STMT_EVENT_PRUNE] =
	    "DELETE FROM events WHERE account_id = ?1 AND id <= "
	    "(SELECT id FROM events WHERE account_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
	[STMT_ACCOUNT_USAGE_ADD] =
	    "UPDATE accounts SET usage_bytes = usage_bytes + ?2, usage_records = usage_records + ?3, "
	    "account_version = account_version + 1 WHERE id = ?1",
	[STMT_ACCOUNT_SET_QUOTA] = "UPDATE accounts SET quota_bytes = ?2 WHERE username = ?1",
	[STMT_ACCOUNT_SET_PLAN] = "UPDATE accounts SET plan = ?2 WHERE username = ?1",

#define COLLECTION_COLS STMT_COLLECTION_COLS
	[STMT_COLLECTION_GET] = "SELECT " COLLECTION_COLS " FROM collections WHERE account_id = ?1 AND name = ?2",
	/* a name used before starts above the deleted collection's last version
	 * and membership version */
	[STMT_COLLECTION_INSERT] =
	    "INSERT INTO collections (account_id, name, meta, created_at, modified_at, version, purged_version, "
	    "members_version) VALUES (?1, ?2, ?3, ?4, ?4, "
	    "coalesce((SELECT version + 1 FROM collection_floors WHERE account_id = ?1 AND name = ?2), 0), "
	    "coalesce((SELECT version + 1 FROM collection_floors WHERE account_id = ?1 AND name = ?2), 0), "
	    "coalesce((SELECT members_version + 1 FROM collection_floors WHERE account_id = ?1 AND name = ?2), 1))",
	[STMT_COLLECTION_FLOOR_SET] =
	    "INSERT INTO collection_floors (account_id, name, version, members_version) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (account_id, name) DO UPDATE SET version = max(version, excluded.version), "
	    "members_version = max(members_version, excluded.members_version)",
	[STMT_COLLECTION_COUNT] = "SELECT count(*) FROM collections WHERE account_id = ?1",
	[STMT_COLLECTION_SET_META] = "UPDATE collections SET meta = ?2, modified_at = ?3 WHERE id = ?1",
	[STMT_COLLECTION_DELETE] = "DELETE FROM collections WHERE id = ?1",
	[STMT_COLLECTION_LIST] =
	    "SELECT " COLLECTION_COLS ", meta FROM collections WHERE account_id = ?1 ORDER BY name",
	[STMT_COLLECTION_UPDATE] =
	    "UPDATE collections SET version = ?2, records = records + ?3, bytes = bytes + ?4, modified_at = ?5 "
	    "WHERE id = ?1",
#undef COLLECTION_COLS

	/* the current version of a record, without its payload */
	[STMT_RECORD_HEAD] =
	    "SELECT version, deleted, coalesce(length(payload), 0) FROM records WHERE collection_id = ?1 AND rid = ?2",
	[STMT_RECORD_GET] =
	    "SELECT rid, version, modified_at, deleted, payload FROM records WHERE collection_id = ?1 AND rid = ?2",
	[STMT_RECORD_UPSERT] =
	    "INSERT INTO records (collection_id, rid, version, modified_at, deleted, payload) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (collection_id, rid) DO UPDATE SET "
	    "version = excluded.version, modified_at = excluded.modified_at, deleted = excluded.deleted, "
	    "payload = excluded.payload",
	/* keep the current version as history before it is replaced */
	[STMT_RECORD_TO_HISTORY] =
	    "INSERT INTO history (collection_id, rid, version, modified_at, deleted, payload) "
	    "SELECT collection_id, rid, version, modified_at, deleted, payload FROM records "
	    "WHERE collection_id = ?1 AND rid = ?2",
	/* away with the history beyond the newest ?3 versions of a record, one row of size per version removed */
	[STMT_HISTORY_PRUNE] =
	    "DELETE FROM history WHERE collection_id = ?1 AND rid = ?2 AND "
	    "version <= (SELECT version FROM history WHERE collection_id = ?1 AND rid = ?2 "
	    "ORDER BY version DESC LIMIT 1 OFFSET ?3) RETURNING coalesce(length(payload), 0)",
	[STMT_RECORD_PULL] =
	    "SELECT rid, version, modified_at, deleted, payload FROM records "
	    "WHERE collection_id = ?1 AND version > ?2 ORDER BY version LIMIT ?3",
	[STMT_HISTORY_LIST] =
	    "SELECT version, modified_at, deleted, coalesce(length(payload), 0) FROM records "
	    "WHERE collection_id = ?1 AND rid = ?2 UNION ALL "
	    "SELECT version, modified_at, deleted, coalesce(length(payload), 0) FROM history "
	    "WHERE collection_id = ?1 AND rid = ?2 ORDER BY 1 DESC",
	[STMT_HISTORY_GET] =
	    "SELECT rid, version, modified_at, deleted, payload FROM records "
	    "WHERE collection_id = ?1 AND rid = ?2 AND version = ?3 UNION ALL "
	    "SELECT rid, version, modified_at, deleted, payload FROM history "
	    "WHERE collection_id = ?1 AND rid = ?2 AND version = ?3",

#define BACKUP_COLS STMT_BACKUP_COLS
	[STMT_BACKUP_GET] = "SELECT " BACKUP_COLS " FROM backups WHERE account_id = ?1 AND name = ?2",
	[STMT_BACKUP_COUNT] = "SELECT count(*) FROM backups WHERE account_id = ?1",
	[STMT_BACKUP_LIST] = "SELECT " BACKUP_COLS " FROM backups WHERE account_id = ?1 ORDER BY name",
	[STMT_BACKUP_INSERT] =
	    "INSERT INTO backups (account_id, name, version, bytes, sha256, created_at, modified_at, data) "
	    "VALUES (?1, ?2, ?6, ?3, ?4, ?5, ?5, zeroblob(?3))",
	[STMT_BACKUP_REPLACE] =
	    "UPDATE backups SET version = ?5, bytes = ?2, sha256 = ?3, modified_at = ?4, "
	    "data = zeroblob(?2) WHERE id = ?1",
	[STMT_BACKUP_DELETE] = "DELETE FROM backups WHERE id = ?1",
#undef BACKUP_COLS

#define SLOT_COLS "rowid_, slot_id, key_hash, version, bytes, sha256, created_at, modified_at, accessed_at"
	/* the last access: of the write (slots.accessed_at) or of a read (slot_access) */
	[STMT_SLOT_GET] =
	    "SELECT s.rowid_, s.slot_id, s.key_hash, s.version, s.bytes, s.sha256, s.created_at, s.modified_at, "
	    "max(s.accessed_at, coalesce(a.accessed_at, 0)) FROM slots s LEFT JOIN slot_access a ON a.slot = s.rowid_ "
	    "WHERE s.slot_id = ?1",
	[STMT_SLOT_INSERT] =
	    "INSERT INTO slots (slot_id, key_hash, version, bytes, sha256, created_at, modified_at, accessed_at, data) "
	    "VALUES (?1, ?2, ?6, ?3, ?4, ?5, ?5, ?5, zeroblob(?3))",
	[STMT_SLOT_REPLACE] =
	    "UPDATE slots SET version = ?5, bytes = ?2, sha256 = ?3, modified_at = ?4, accessed_at = ?4, "
	    "data = zeroblob(?2) WHERE rowid_ = ?1",
	/* the next backup or slot version: one counter for the store, never reused */
	[STMT_BLOB_VERSION_NEXT] =
	    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'blob_version' "
	    "RETURNING CAST(value AS INTEGER)",
	[STMT_SLOT_DELETE] = "DELETE FROM slots WHERE rowid_ = ?1",
	[STMT_SLOT_TOUCH] =
	    "INSERT INTO slot_access (slot, accessed_at) VALUES (?1, ?2) "
	    "ON CONFLICT (slot) DO UPDATE SET accessed_at = excluded.accessed_at",
	/* slots neither read nor written since ?1 */
	[STMT_SLOT_PURGE] =
	    "DELETE FROM slots WHERE rowid_ IN (SELECT s.rowid_ FROM slots s LEFT JOIN slot_access a "
	    "ON a.slot = s.rowid_ WHERE max(s.accessed_at, coalesce(a.accessed_at, 0)) < ?1 LIMIT ?2)",
#undef SLOT_COLS

	/* the gauges of /v1/metrics: small tables, or sums of counters kept by the writes */
	[STMT_STATS] =
	    "SELECT (SELECT count(*) FROM accounts), (SELECT coalesce(sum(usage_records), 0) FROM accounts), "
	    "(SELECT coalesce(sum(usage_bytes), 0) FROM accounts), (SELECT count(*) FROM backups), "
	    "(SELECT count(*) FROM slots)",

	[STMT_EVENT_LIST] =
	    "SELECT at, type, device FROM events WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2",

	/* ---- maintenance (store_admin.c) ---- */
	[STMT_ADMIN_INTEGRITY] = "PRAGMA integrity_check",
/*
 * The counters of every collection recounted from the data: id, account_id,
 * n (current records that are not tombstones), b (payload bytes of the
 * current records and the kept history), v (the highest version in use).
 */
#define RECOUNT_CTE \
	"WITH rc AS (SELECT c.id AS id, c.account_id AS account_id, coalesce(r.n, 0) AS n, " \
	"coalesce(r.b, 0) + coalesce(h.b, 0) AS b, max(coalesce(r.v, 0), coalesce(h.v, 0)) AS v " \
	"FROM collections c " \
	"LEFT JOIN (SELECT collection_id, sum(deleted = 0) AS n, sum(length(payload)) AS b, max(version) AS v " \
	"FROM records GROUP BY collection_id) r ON r.collection_id = c.id " \
	"LEFT JOIN (SELECT collection_id, sum(length(payload)) AS b, max(version) AS v " \
	"FROM history GROUP BY collection_id) h ON h.collection_id = c.id) "
	/* stored and recounted counters of each collection */
	[STMT_ADMIN_RECOUNT_COLLECTIONS] =
	    RECOUNT_CTE
	    "SELECT c.id, c.account_id, a.username, c.name, c.records, c.bytes, c.version, rc.n, rc.b, rc.v "
	    "FROM collections c JOIN rc ON rc.id = c.id JOIN accounts a ON a.id = c.account_id "
	    "ORDER BY a.username, c.name",
	/* stored usage of each account beside the sums of its collections' recounts
	 * plus the size of its backups (which count towards usage_bytes too) */
	[STMT_ADMIN_RECOUNT_ACCOUNTS] =
	    RECOUNT_CTE
	    "SELECT a.id, a.username, a.usage_bytes, a.usage_records, coalesce(sum(rc.b), 0) + "
	    "(SELECT coalesce(sum(length(data)), 0) FROM backups WHERE account_id = a.id), coalesce(sum(rc.n), 0) "
	    "FROM accounts a LEFT JOIN rc ON rc.account_id = a.id GROUP BY a.id ORDER BY a.username",
#undef RECOUNT_CTE
	[STMT_ADMIN_COLLECTION_SET_COUNTERS] =
	    "UPDATE collections SET records = ?2, bytes = ?3, version = max(version, ?4) WHERE id = ?1",
	[STMT_ADMIN_ACCOUNT_SET_USAGE] = "UPDATE accounts SET usage_bytes = ?2, usage_records = ?3 WHERE id = ?1",

	/* purge: at most ?2 rows per statement (blindsync-admin purge repeats it) */
	[STMT_PURGE_TOKENS] =
	    "DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires_at <= ?1 LIMIT ?2)",
	[STMT_PURGE_INVITES] =
	    "DELETE FROM invites WHERE id IN "
	    "(SELECT id FROM invites WHERE expires_at <= ?1 AND used_at IS NULL LIMIT ?2)",
	[STMT_PURGE_EVENTS] = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ?1 ORDER BY id LIMIT ?2)",
	/* per collection with tombstones modified before ?1 (the first ?2 such
	 * collections): its account, the highest such tombstone version, their
	 * number, and the payload bytes they and the history of their records
	 * hold; the partial index records_tombstones (008) finds them */
	[STMT_PURGE_TOMBSTONE_SCAN] =
	    "SELECT t.collection_id, c.account_id, max(t.version), count(*), sum(coalesce(length(t.payload), 0)) + "
	    "(SELECT coalesce(sum(length(h.payload)), 0) FROM history h WHERE h.collection_id = t.collection_id "
	    "AND h.rid IN (SELECT rid FROM records WHERE collection_id = t.collection_id AND deleted = 1 "
	    "AND modified_at < ?1)) "
	    "FROM records t JOIN collections c ON c.id = t.collection_id "
	    "WHERE t.deleted = 1 AND t.modified_at < ?1 GROUP BY t.collection_id ORDER BY t.collection_id LIMIT ?2",
	/* the history of those records (before the records themselves go) */
	[STMT_PURGE_TOMBSTONE_HISTORY] =
	    "DELETE FROM history WHERE collection_id = ?1 AND rid IN "
	    "(SELECT rid FROM records WHERE collection_id = ?1 AND deleted = 1 AND modified_at < ?2)",
	[STMT_PURGE_TOMBSTONE_RECORDS] =
	    "DELETE FROM records WHERE collection_id = ?1 AND deleted = 1 AND modified_at < ?2",
	[STMT_PURGE_TOMBSTONE_COLLECTION] =
	    "UPDATE collections SET bytes = bytes - ?2, purged_version = max(purged_version, ?3) WHERE id = ?1",
	/* records left below the new horizon get versions above the collection's,
	 * so that a pull walking from 0 never hands out a cursor below it:
	 * ?1 collection, ?2 the horizon; answers the collection's version and
	 * the largest version to move */
	[STMT_PURGE_REVERSION_SCAN] =
	    "SELECT c.version, (SELECT coalesce(max(version), 0) FROM records WHERE collection_id = ?1 "
	    "AND version <= ?2) FROM collections c WHERE c.id = ?1",
	/* old + the collection's version: above every version in use, so the
	 * unique (collection_id, version) index never sees a clash */
	[STMT_PURGE_REVERSION] = "UPDATE records SET version = version + ?3 WHERE collection_id = ?1 AND version <= ?2",
	[STMT_PURGE_REVERSION_COLLECTION] = "UPDATE collections SET version = ?2 WHERE id = ?1",

	/* ---- export and import (store_transfer.c) ---- */
	/* the kept older versions of a record with their payloads, newest first */
	[STMT_TRANSFER_HISTORY] =
	    "SELECT rid, version, modified_at, deleted, payload FROM history "
	    "WHERE collection_id = ?1 AND rid = ?2 ORDER BY version DESC",
	/* a plain insert: a repeated id or version is a constraint error, never an overwrite */
	[STMT_TRANSFER_RECORD_INSERT] =
	    "INSERT INTO records (collection_id, rid, version, modified_at, deleted, payload) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STMT_TRANSFER_HISTORY_INSERT] =
	    "INSERT INTO history (collection_id, rid, version, modified_at, deleted, payload) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STMT_TRANSFER_COLLECTION_SET] =
	    "UPDATE collections SET version = ?2, records = ?3, bytes = ?4, purged_version = ?5, modified_at = ?6 "
	    "WHERE id = ?1",
	/* a backup with its exported version and time; data is then written into the zeroblob
	 * (never an UPDATE of the row afterwards: SQLite would read and rewrite the whole blob) */
	[STMT_TRANSFER_BACKUP_INSERT] =
	    "INSERT INTO backups (account_id, name, version, bytes, sha256, created_at, modified_at, data) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, zeroblob(?4))",
	/* the version of an imported backup: the exported one ?1 if the store-wide
	 * counter is below it, else the counter's next; the counter never goes back */
	[STMT_TRANSFER_BLOB_VERSION] =
	    "UPDATE meta SET value = max(CAST(value AS INTEGER) + 1, ?1) WHERE key = 'blob_version' "
	    "RETURNING CAST(value AS INTEGER)",

	/* ---- blindsync-admin: invites, sessions and stats (store_admin.c) ---- */
	/* 1 if the invite was used, 0 if not; no row if there is none */
	[STMT_ADMIN_INVITE_STATE] = "SELECT used_at IS NOT NULL FROM invites WHERE id = ?1",
	[STMT_ADMIN_INVITE_REVOKE] = "DELETE FROM invites WHERE id = ?1 AND used_at IS NULL",
	/* every device of the account; its tokens go by cascade */
	[STMT_ADMIN_DEVICE_DELETE_ACCOUNT] = "DELETE FROM devices WHERE account_id = ?1",
	[STMT_ADMIN_COLLECTIONS_TOTAL] = "SELECT count(*) FROM collections",
	[STMT_ADMIN_TOP_ACCOUNTS] =
	    "SELECT username, usage_bytes, usage_records FROM accounts ORDER BY usage_bytes DESC, username LIMIT ?1",
	/* two-factor login and the recovery key: an account that never began TOTP reads as all zero */
	[STMT_MFA_GET] =
	    "SELECT m.totp_secret, coalesce(m.totp_on, 0), coalesce(m.last_step, 0), coalesce(m.fails, 0), "
	    "coalesce(m.locked_until, 0), EXISTS (SELECT 1 FROM recovery_keys k WHERE k.account_id = a.id), "
	    "(SELECT count(*) FROM recovery_codes c WHERE c.account_id = a.id) "
	    "FROM accounts a LEFT JOIN account_mfa m ON m.account_id = a.id WHERE a.id = ?1",
	[STMT_MFA_SET] =
	    "INSERT INTO account_mfa (account_id, totp_secret, totp_on, last_step, fails, locked_until) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (account_id) DO UPDATE SET totp_secret = excluded.totp_secret, "
	    "totp_on = excluded.totp_on, last_step = excluded.last_step, fails = excluded.fails, "
	    "locked_until = excluded.locked_until",
	[STMT_MFA_CODES_DELETE] = "DELETE FROM recovery_codes WHERE account_id = ?1",
	[STMT_MFA_CODE_INSERT] = "INSERT INTO recovery_codes (account_id, hash) VALUES (?1, ?2)",
	[STMT_MFA_CODE_USE] = "DELETE FROM recovery_codes WHERE account_id = ?1 AND hash = ?2",
	[STMT_RECOVERY_GET] =
	    "SELECT auth_hash, auth_salt, auth_iterations, blob FROM recovery_keys WHERE account_id = ?1",
	[STMT_RECOVERY_PUT] =
	    "INSERT INTO recovery_keys (account_id, auth_hash, auth_salt, auth_iterations, blob, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (account_id) DO UPDATE SET auth_hash = excluded.auth_hash, "
	    "auth_salt = excluded.auth_salt, auth_iterations = excluded.auth_iterations, blob = excluded.blob, "
	    "created_at = excluded.created_at, reset_hash = NULL, reset_expires = NULL",
	[STMT_RECOVERY_DELETE] = "DELETE FROM recovery_keys WHERE account_id = ?1",
	[STMT_RECOVERY_RESET_SET] =
	    "UPDATE recovery_keys SET reset_hash = ?2, reset_expires = ?3 WHERE account_id = ?1",
	[STMT_RECOVERY_RESET_FIND] =
	    "SELECT account_id FROM recovery_keys WHERE reset_hash = ?1 AND reset_expires > ?2",

	/* ---- blindsync-live (store_live.c) ---- */
	[STMT_LIVE_TICKET_PRUNE] = "DELETE FROM live_tickets WHERE expires_at <= ?1",
	[STMT_LIVE_TICKET_INSERT] =
	    "INSERT INTO live_tickets (hash, account_id, device_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
	/* single use: the row goes whether or not it is still valid */
	[STMT_LIVE_TICKET_TAKE] =
	    "DELETE FROM live_tickets WHERE hash = ?1 RETURNING account_id, device_id, expires_at",
	/* the device still has a session (an unexpired, unused token: not logged
	 * out, not revoked) and its account is not disabled; one row or none,
	 * with the latest expiry of those tokens (NULL: none, no session) */
	[STMT_LIVE_DEVICE_OK] =
	    "SELECT (SELECT max(t.expires_at) FROM tokens t WHERE t.device_id = d.id AND t.expires_at > ?3 "
	    "AND t.used_at IS NULL) FROM devices d JOIN accounts a ON a.id = d.account_id "
	    "WHERE d.id = ?1 AND d.account_id = ?2 AND a.disabled = 0",
	/* ---- sharing (store_share.c) ---- */
	[STMT_KEYS_GET] = "SELECT x25519, ed25519 FROM account_keys WHERE account_id = ?1",
	[STMT_KEYS_PUT] =
	    "INSERT INTO account_keys (account_id, x25519, ed25519, updated_at) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (account_id) DO UPDATE SET x25519 = excluded.x25519, ed25519 = excluded.ed25519, "
	    "updated_at = excluded.updated_at",
	[STMT_MEMBER_ROLE] = "SELECT role FROM members WHERE collection_id = ?1 AND account_id = ?2",
	[STMT_MEMBER_LIST] =
	    "SELECT m.account_id, a.username, m.role, m.joined_at FROM members m JOIN accounts a ON a.id = m.account_id "
	    "WHERE m.collection_id = ?1 ORDER BY a.username",
	[STMT_MEMBER_COUNT] = "SELECT count(*) FROM members WHERE collection_id = ?1",
	[STMT_MEMBER_PUT] =
	    "INSERT INTO members (collection_id, account_id, role, joined_at) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (collection_id, account_id) DO UPDATE SET role = excluded.role",
	[STMT_MEMBER_DELETE] = "DELETE FROM members WHERE collection_id = ?1 AND account_id = ?2",
	[STMT_MEMBER_GRANTS_DELETE] = "DELETE FROM grants WHERE collection_id = ?1 AND account_id = ?2",
	[STMT_SHARED_LIST] =
	    "SELECT c.id, c.account_id, c.name, c.version, c.records, c.bytes, c.created_at, c.modified_at, "
	    "c.purged_version, c.key_version, c.members_version, c.rotate_due, c.meta, o.username, m.role "
	    "FROM members m JOIN collections c ON c.id = m.collection_id JOIN accounts o ON o.id = c.account_id "
	    "WHERE m.account_id = ?1 ORDER BY o.username, c.name",
	[STMT_SHARE_MEMBERS_BUMP] =
	    "UPDATE collections SET members_version = members_version + 1 WHERE id = ?1 RETURNING members_version",
	/* a rotation clears rotate_due; a removal or a leave sets it (STMT_SHARE_ROTATE_DUE) */
	[STMT_SHARE_ROTATE_MARK] =
	    "UPDATE collections SET key_version = key_version + 1, members_version = members_version + 1, rotate_due = 0 "
	    "WHERE id = ?1 AND members_version = ?2 AND key_version = ?3 RETURNING members_version",
	[STMT_SHARE_ROTATE_DUE] = "UPDATE collections SET rotate_due = 1 WHERE id = ?1",
	[STMT_SHARE_MEMBERS_VERSION] = "SELECT members_version FROM collections WHERE id = ?1",
	[STMT_SHARE_ACCOUNTS_BUMP] =
	    "UPDATE accounts SET account_version = account_version + 1 "
	    "WHERE id IN (SELECT account_id FROM members WHERE collection_id = ?1)",
	[STMT_SHARE_MEMBER_IDS] = "SELECT account_id FROM members WHERE collection_id = ?1 ORDER BY account_id",
	/* everyone who shares a collection with ?1: the members of its
	 * collections, the owners and members of the collections it is in */
#define PEERS "SELECT m.account_id FROM members m JOIN collections c ON c.id = m.collection_id " \
	"WHERE c.account_id = ?1 UNION SELECT c.account_id FROM members m JOIN collections c " \
	"ON c.id = m.collection_id WHERE m.account_id = ?1 UNION SELECT o.account_id FROM members m " \
	"JOIN members o ON o.collection_id = m.collection_id WHERE m.account_id = ?1 AND o.account_id <> ?1"
	[STMT_SHARE_PEERS_BUMP] =
	    "UPDATE accounts SET account_version = account_version + 1 WHERE id IN (" PEERS ")",
	[STMT_SHARE_PEERS_MEMBERS_BUMP] =
	    "UPDATE collections SET members_version = members_version + 1 "
	    "WHERE id IN (SELECT collection_id FROM members WHERE account_id = ?1)",
	[STMT_SHARE_PEER_IDS] = PEERS,
#undef PEERS
	[STMT_INVITATION_PRUNE_PAIR] =
	    "DELETE FROM invitations WHERE collection_id = ?1 AND to_id = ?2 AND expires_at <= ?3",
	[STMT_INVITATION_INSERT] =
	    "INSERT INTO invitations (public_id, collection_id, from_id, to_id, role, key_version, sealed, signature, "
	    "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
#define INVITATION_SELECT STMT_INVITATION_SELECT
	[STMT_INVITATION_GET] = INVITATION_SELECT "WHERE i.public_id = ?1 AND i.expires_at > ?2",
	[STMT_INVITATION_LIST_TO] = INVITATION_SELECT "WHERE i.to_id = ?1 AND i.expires_at > ?2 ORDER BY i.id",
	[STMT_INVITATION_LIST_COLLECTION] =
	    INVITATION_SELECT "WHERE i.collection_id = ?1 AND i.expires_at > ?2 ORDER BY i.id",
	/* blindsync-admin purge: the first ?2 expired by ?1 */
	[STMT_INVITATION_LIST_EXPIRED] = INVITATION_SELECT "WHERE i.expires_at <= ?1 ORDER BY i.id LIMIT ?2",
#undef INVITATION_SELECT
	[STMT_INVITATION_COUNT_FROM] = "SELECT count(*) FROM invitations WHERE from_id = ?1 AND expires_at > ?2",
	[STMT_INVITATION_PENDING] =
	    "SELECT 1 FROM invitations WHERE collection_id = ?1 AND to_id = ?2 AND expires_at > ?3",
	[STMT_INVITATION_DELETE] = "DELETE FROM invitations WHERE id = ?1",
	[STMT_INVITATION_REGRANT] =
	    "UPDATE invitations SET key_version = ?2, sealed = ?3, signature = ?4 WHERE id = ?1",
	[STMT_GRANT_PUT] =
	    "INSERT INTO grants (collection_id, account_id, key_version, from_name, from_x25519, from_ed25519, sealed, "
	    "signature, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT (collection_id, account_id, key_version) DO UPDATE SET from_name = excluded.from_name, "
	    "from_x25519 = excluded.from_x25519, from_ed25519 = excluded.from_ed25519, sealed = excluded.sealed, "
	    "signature = excluded.signature, created_at = excluded.created_at",
#define GRANT_COLS "collection_id, account_id, key_version, from_name, from_x25519, from_ed25519, sealed, " \
	"signature, created_at"
	[STMT_GRANT_GET] =
	    "SELECT " GRANT_COLS " FROM grants WHERE collection_id = ?1 AND account_id = ?2 AND key_version = ?3",
	[STMT_GRANT_GET_NEWEST] =
	    "SELECT " GRANT_COLS " FROM grants WHERE collection_id = ?1 AND account_id = ?2 "
	    "ORDER BY key_version DESC LIMIT 1",
#undef GRANT_COLS
	/* ---- blindsync-admin migrate-store (store_copy.c) ----
	 * every column as it is (the order of store_table_info's lists), the
	 * rows in key order; an insert never overwrites, except meta's values */
#define COPY(T, table, cols, key, params) \
	[STMT_COPY_READ_##T] = "SELECT " cols " FROM " table " ORDER BY " key, \
	[STMT_COPY_INSERT_##T] = "INSERT INTO " table " (" cols ") VALUES (" params ")", \
	[STMT_COPY_COUNT_##T] = "SELECT count(*) FROM " table,
	[STMT_COPY_READ_META] = "SELECT key, value FROM meta ORDER BY key",
	[STMT_COPY_INSERT_META] =
	    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[STMT_COPY_COUNT_META] = "SELECT count(*) FROM meta",
	COPY(ACCOUNTS, "accounts", "id, public_id, username, auth_hash, auth_salt, auth_iterations, kdf, keyring, "
	    "keyring_version, created_at, disabled, plan, quota_bytes, usage_bytes, usage_records, account_version", "id",
	    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16")
	COPY(DEVICES, "devices", "id, public_id, account_id, name, type, created_at, last_seen_at", "id",
	    "?1, ?2, ?3, ?4, ?5, ?6, ?7")
	COPY(TOKENS, "tokens", "hash, kind, account_id, device_id, expires_at, used_at", "hash", "?1, ?2, ?3, ?4, ?5, ?6")
	COPY(INVITES, "invites", "id, hash, created_at, expires_at, used_at, used_by", "id", "?1, ?2, ?3, ?4, ?5, ?6")
	COPY(EVENTS, "events", "id, account_id, at, type, device", "id", "?1, ?2, ?3, ?4, ?5")
	COPY(COLLECTIONS, "collections", "id, account_id, name, version, records, bytes, meta, created_at, "
	    "modified_at, purged_version, key_version, members_version, rotate_due", "id",
	    "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13")
	COPY(FLOORS, "collection_floors", "account_id, name, version, members_version", "account_id, name",
	    "?1, ?2, ?3, ?4")
	COPY(RECORDS, "records", "collection_id, rid, version, modified_at, deleted, payload", "collection_id, rid",
	    "?1, ?2, ?3, ?4, ?5, ?6")
	COPY(HISTORY, "history", "id, collection_id, rid, version, modified_at, deleted, payload", "id",
	    "?1, ?2, ?3, ?4, ?5, ?6, ?7")
	/* blobs: the row with a zeroblob of its size (?5, bytes), filled afterwards */
	[STMT_COPY_READ_BACKUPS] =
	    "SELECT id, account_id, name, version, bytes, sha256, created_at, modified_at FROM backups ORDER BY id",
	[STMT_COPY_INSERT_BACKUPS] =
	    "INSERT INTO backups (id, account_id, name, version, bytes, sha256, created_at, modified_at, data) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, zeroblob(?5))",
	[STMT_COPY_COUNT_BACKUPS] = "SELECT count(*) FROM backups",
	[STMT_COPY_READ_SLOTS] =
	    "SELECT rowid_, slot_id, key_hash, version, bytes, sha256, created_at, modified_at, accessed_at "
	    "FROM slots ORDER BY rowid_",
	[STMT_COPY_INSERT_SLOTS] =
	    "INSERT INTO slots (rowid_, slot_id, key_hash, version, bytes, sha256, created_at, modified_at, "
	    "accessed_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, zeroblob(?5))",
	[STMT_COPY_COUNT_SLOTS] = "SELECT count(*) FROM slots",
	COPY(SLOT_ACCESS, "slot_access", "slot, accessed_at", "slot", "?1, ?2")
	COPY(MFA, "account_mfa", "account_id, totp_secret, totp_on, last_step, fails, locked_until", "account_id",
	    "?1, ?2, ?3, ?4, ?5, ?6")
	COPY(RECOVERY_CODES, "recovery_codes", "account_id, hash", "account_id, hash", "?1, ?2")
	COPY(RECOVERY_KEYS, "recovery_keys", "account_id, auth_hash, auth_salt, auth_iterations, blob, created_at, "
	    "reset_hash, reset_expires", "account_id", "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8")
	COPY(ACCOUNT_KEYS, "account_keys", "account_id, x25519, ed25519, updated_at", "account_id", "?1, ?2, ?3, ?4")
	COPY(MEMBERS, "members", "collection_id, account_id, role, joined_at", "collection_id, account_id",
	    "?1, ?2, ?3, ?4")
	COPY(INVITATIONS, "invitations", "id, public_id, collection_id, from_id, to_id, role, key_version, sealed, "
	    "signature, created_at, expires_at", "id", "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11")
	COPY(GRANTS, "grants", "collection_id, account_id, key_version, from_name, from_x25519, from_ed25519, sealed, "
	    "signature, created_at", "collection_id, account_id, key_version", "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9")
#undef COPY
};

_Static_assert(sizeof stmt_sql / sizeof stmt_sql[0] == STMT__MAX, "stmt table out of step with enum stmt");
