/*
 * stmt_pg.c: the SQL text of every statement of the PostgreSQL store, in
 * enum pgstmt order (stmt_pg.h). Parameters are $1, $2, ... as bound by
 * pg_args (store_pg_impl.h).
 */
#include "stmt_pg.h"
#include "stmt_cols.h"

/*
 * A push's writes, each a statement of its own (below) and, in the usual
 * push (new or replaced records, nothing pruned), all four in one
 * (PG_PUSH_WRITES: pg_batch_send): their parameters' numbers are given.
 */
#define RECORD_INSERT_MANY(col, rid, ver, mod, del, pay) \
	"INSERT INTO records (collection_id, rid, version, modified_at, deleted, payload) " \
	"SELECT " col ", u.rid, u.version, u.modified_at, u.deleted, u.payload " \
	"FROM unnest(" rid "::text[], " ver "::bigint[], " mod "::bigint[], " del "::integer[], " pay "::bytea[]) " \
	"AS u (rid, version, modified_at, deleted, payload)"
#define RECORD_UPSERT_MANY(col, rid, ver, mod, del, pay) \
	RECORD_INSERT_MANY(col, rid, ver, mod, del, pay) " " \
	"ON CONFLICT (collection_id, rid) DO UPDATE SET " \
	"version = excluded.version, modified_at = excluded.modified_at, deleted = excluded.deleted, " \
	"payload = excluded.payload"
#define COLLECTION_UPDATE(id, ver, recs, bytes, mod) \
	"UPDATE collections SET version = " ver ", records = records + " recs ", bytes = bytes + " bytes \
	", modified_at = " mod " WHERE id = " id
#define ACCOUNT_USAGE_ADD(id, bytes, recs) \
	"UPDATE accounts SET usage_bytes = usage_bytes + " bytes ", usage_records = usage_records + " recs ", " \
	"account_version = account_version + 1 WHERE id = " id
#define SHARE_ACCOUNTS_BUMP(col) \
	"INSERT INTO share_bumps (account_id, n) SELECT account_id, 1 FROM members WHERE collection_id = " col " " \
	"ORDER BY account_id ON CONFLICT (account_id) DO UPDATE SET n = share_bumps.n + 1 RETURNING account_id"

const char *const pg_stmt_sql[] = {
	[PG_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
	[PG_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
	[PG_COMMIT] = "COMMIT",
	[PG_ROLLBACK] = "ROLLBACK",
	[PG_HEALTH] = "SELECT value FROM meta WHERE key = 'schema'",
	[PG_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
	/* the gauges of /v1/metrics, and the database's size on disk */
	[PG_STATS] =
	    "SELECT (SELECT count(*) FROM accounts), (SELECT coalesce(sum(usage_records), 0)::bigint FROM accounts), "
	    "(SELECT coalesce(sum(usage_bytes), 0)::bigint FROM accounts), (SELECT count(*) FROM backups), "
	    "(SELECT count(*) FROM slots), pg_database_size(current_database())",

/* account_version: the account's own counter plus the bumps it had as a
 * member of others' collections (share_bumps, sql/pg/005_sharing.sql) */
#define ACCOUNT_VERSION \
	"(account_version + coalesce((SELECT n FROM share_bumps b WHERE b.account_id = accounts.id), 0))"
#define ACCOUNT_COLS "id, public_id, username, auth_hash, auth_salt, auth_iterations, kdf, " \
	"keyring_version, created_at, disabled, plan, coalesce(quota_bytes, -1), usage_bytes, usage_records, " \
	ACCOUNT_VERSION
	/* a taken username or public id is a conflict that changes nothing (no aborted transaction) */
	[PG_ACCOUNT_INSERT] =
	    "INSERT INTO accounts (public_id, username, auth_hash, auth_salt, auth_iterations, kdf, keyring, "
	    "keyring_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
	    "ON CONFLICT DO NOTHING RETURNING id",
	[PG_ACCOUNT_BY_NAME] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE username = $1",
	[PG_ACCOUNT_BY_ID] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = $1",
/* the account of access token $n: the reads of an early read transaction
 * (store_status_early, store_pull_early) are sent with the token's lookup,
 * before its account is known; a token that fails the check has its
 * results dropped unread */
#define TOKEN_ACCOUNT(n) "(SELECT account_id FROM tokens WHERE hash = $" n " AND kind = 1)"
	[PG_ACCOUNT_BY_TOKEN] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = " TOKEN_ACCOUNT("1"),
	/* inside store_tx: the account's writers follow each other (quota,
	 * usage); NO KEY: inserts referring to the account (its foreign-key
	 * checks take KEY SHARE) are not blocked */
	[PG_ACCOUNT_BY_ID_LOCK] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = $1 FOR NO KEY UPDATE",
	[PG_ACCOUNT_KEYRING] = "SELECT keyring, keyring_version FROM accounts WHERE id = $1",
	[PG_ACCOUNT_SET_AUTH] =
	    "UPDATE accounts SET auth_hash = $2, auth_salt = $3, auth_iterations = $4 WHERE id = $1",
	[PG_ACCOUNT_SET_KDF] = "UPDATE accounts SET kdf = $2, account_version = account_version + 1 WHERE id = $1",
	[PG_ACCOUNT_SET_KEYRING] =
	    "UPDATE accounts SET keyring = $2, keyring_version = keyring_version + 1, "
	    "account_version = account_version + 1 WHERE id = $1 AND keyring_version = $3 RETURNING keyring_version",
	/* and its share_bumps (no foreign key there: sql/pg/005_sharing.sql) */
	[PG_ACCOUNT_DELETE] =
	    "WITH b AS (DELETE FROM share_bumps WHERE account_id = $1) DELETE FROM accounts WHERE id = $1",
	[PG_ACCOUNT_SET_DISABLED] = "UPDATE accounts SET disabled = $2 WHERE username = $1",
	[PG_ACCOUNT_LIST] = "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY username",
	[PG_ACCOUNT_BUMP] = "UPDATE accounts SET account_version = account_version + 1 WHERE id = $1",
#undef ACCOUNT_COLS

	[PG_DEVICE_INSERT] =
	    "INSERT INTO devices (public_id, account_id, name, type, created_at, last_seen_at) "
	    "VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
	[PG_DEVICE_LIST] =
	    "SELECT id, public_id, name, type, created_at, last_seen_at FROM devices WHERE account_id = $1 ORDER BY id",
	[PG_DEVICE_BY_PUBLIC] = "SELECT id FROM devices WHERE public_id = $1 AND account_id = $2",
	[PG_DEVICE_DELETE] = "DELETE FROM devices WHERE id = $1",
	[PG_DEVICE_DELETE_OTHERS] = "DELETE FROM devices WHERE account_id = $1 AND id <> $2",
	[PG_DEVICE_TOUCH] = "UPDATE devices SET last_seen_at = $2 WHERE id = $1",

	[PG_TOKEN_INSERT] =
	    "INSERT INTO tokens (hash, kind, account_id, device_id, expires_at) VALUES ($1, $2, $3, $4, $5)",
	/* the one indexed lookup of every authenticated request */
	[PG_TOKEN_ACCESS] =
	    "SELECT t.account_id, t.device_id, t.expires_at, a.disabled, d.public_id, d.last_seen_at "
	    "FROM tokens t JOIN accounts a ON a.id = t.account_id JOIN devices d ON d.id = t.device_id "
	    "WHERE t.hash = $1 AND t.kind = 1",
	[PG_TOKEN_REFRESH] =
	    "SELECT t.account_id, t.device_id, t.expires_at, a.disabled, d.public_id, coalesce(t.used_at, 0) "
	    "FROM tokens t JOIN accounts a ON a.id = t.account_id JOIN devices d ON d.id = t.device_id "
	    "WHERE t.hash = $1 AND t.kind = 2",
	/* the row lock makes one of two racing refreshes find used_at set */
	[PG_TOKEN_MARK_USED] = "UPDATE tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL",
	[PG_TOKEN_DELETE_DEVICE] = "DELETE FROM tokens WHERE device_id = $1",
	[PG_TOKEN_PRUNE_DEVICE] = "DELETE FROM tokens WHERE device_id = $1 AND expires_at <= $2",
	[PG_TOKEN_DELETE_ACCOUNT] = "DELETE FROM tokens WHERE account_id = $1",

	[PG_INVITE_INSERT] = "INSERT INTO invites (hash, created_at, expires_at) VALUES ($1, $2, $3)",
	[PG_INVITE_USABLE] = "SELECT 1 FROM invites WHERE hash = $1 AND used_at IS NULL AND expires_at > $2",
	[PG_INVITE_USE] =
	    "UPDATE invites SET used_at = $2, used_by = $3 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2",
	[PG_INVITE_LIST] =
	    "SELECT i.id, i.created_at, i.expires_at, coalesce(i.used_at, 0), a.username "
	    "FROM invites i LEFT JOIN accounts a ON a.id = i.used_by ORDER BY i.id",

	[PG_EVENT_INSERT] = "INSERT INTO events (account_id, at, type, device) VALUES ($1, $2, $3, $4)",
	/* keep the newest $2 events of the account */
	[PG_EVENT_PRUNE] =
	    "DELETE FROM events WHERE account_id = $1 AND id <= "
	    "(SELECT id FROM events WHERE account_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
	[PG_EVENT_LIST] = "SELECT at, type, device FROM events WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
	[PG_ACCOUNT_USAGE_ADD] = ACCOUNT_USAGE_ADD("$1", "$2", "$3"),
	[PG_ACCOUNT_SET_QUOTA] = "UPDATE accounts SET quota_bytes = $2 WHERE username = $1",
	[PG_ACCOUNT_SET_PLAN] = "UPDATE accounts SET plan = $2 WHERE username = $1",

#define COLLECTION_COLS STMT_COLLECTION_COLS
	[PG_COLLECTION_GET] = "SELECT " COLLECTION_COLS " FROM collections WHERE account_id = $1 AND name = $2",
	[PG_COLLECTION_GET_BY_TOKEN] =
	    "SELECT " COLLECTION_COLS " FROM collections WHERE account_id = " TOKEN_ACCOUNT("1") " AND name = $2",
	/*
	 * inside store_tx: the account's row, then the collection's, locked in
	 * that order (store_pg_impl.h): the version counter is handed out by one
	 * writer at a time, so versions commit in the order they were given
	 */
	[PG_COLLECTION_GET_LOCK] =
	    "WITH a AS MATERIALIZED (SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE) "
	    "SELECT " COLLECTION_COLS " FROM collections WHERE account_id = (SELECT id FROM a) AND name = $2 "
	    "FOR NO KEY UPDATE",
	/* a name used before starts above the deleted collection's last version;
	 * a taken name returns no row (a conflict that aborts nothing) */
	[PG_COLLECTION_INSERT] =
	    "INSERT INTO collections (account_id, name, meta, created_at, modified_at, version, purged_version, "
	    "members_version) VALUES ($1, $2, $3, $4, $4, "
	    "coalesce((SELECT version + 1 FROM collection_floors WHERE account_id = $1 AND name = $2), 0), "
	    "coalesce((SELECT version + 1 FROM collection_floors WHERE account_id = $1 AND name = $2), 0), "
	    "coalesce((SELECT members_version + 1 FROM collection_floors WHERE account_id = $1 AND name = $2), 1)) "
	    "ON CONFLICT DO NOTHING RETURNING " COLLECTION_COLS,
	[PG_COLLECTION_FLOOR_SET] =
	    "INSERT INTO collection_floors (account_id, name, version, members_version) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (account_id, name) DO UPDATE SET version = greatest(collection_floors.version, excluded.version), "
	    "members_version = greatest(collection_floors.members_version, excluded.members_version)",
	[PG_COLLECTION_COUNT] = "SELECT count(*) FROM collections WHERE account_id = $1",
	[PG_COLLECTION_SET_META] = "UPDATE collections SET meta = $2, modified_at = $3 WHERE id = $1",
	[PG_COLLECTION_DELETE] = "DELETE FROM collections WHERE id = $1",
#define COLLECTION_LIST(account) "SELECT " COLLECTION_COLS ", meta FROM collections WHERE account_id = " account " ORDER BY name"
	[PG_COLLECTION_LIST] = COLLECTION_LIST("$1"),
	[PG_COLLECTION_LIST_BY_TOKEN] = COLLECTION_LIST(TOKEN_ACCOUNT("1")),
#undef COLLECTION_LIST
	[PG_COLLECTION_UPDATE] = COLLECTION_UPDATE("$1", "$2", "$3", "$4", "$5"),
#undef COLLECTION_COLS

	/* the heads of a push's records at once ($2: a text[] of rids), in byte order of rid */
	[PG_RECORD_HEADS] =
	    "SELECT rid, version, deleted, coalesce(octet_length(payload), 0) FROM records "
	    "WHERE collection_id = $1 AND rid = ANY ($2::text[]) ORDER BY rid",
	/* PG_RECORD_HEADS of the collection named $3 of account $2: sent
	 * ahead with the push's row locks (pg_push_hint), it needs no id */
	[PG_RECORD_HEADS_NAMED] =
	    "SELECT rid, version, deleted, coalesce(octet_length(payload), 0) FROM records "
	    "WHERE collection_id = (SELECT id FROM collections WHERE account_id = $2 AND name = $3) "
	    "AND rid = ANY ($1::text[]) ORDER BY rid",
	/* the current version of a record, without its payload (octet_length
	 * reads the size from the TOAST pointer: the payload is not fetched) */
	[PG_RECORD_HEAD] =
	    "SELECT version, deleted, coalesce(octet_length(payload), 0) FROM records "
	    "WHERE collection_id = $1 AND rid = $2",
	[PG_RECORD_GET] =
	    "SELECT rid, version, modified_at, deleted, payload FROM records WHERE collection_id = $1 AND rid = $2",
	[PG_RECORD_UPSERT] =
	    "INSERT INTO records (collection_id, rid, version, modified_at, deleted, payload) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (collection_id, rid) DO UPDATE SET "
	    "version = excluded.version, modified_at = excluded.modified_at, deleted = excluded.deleted, "
	    "payload = excluded.payload",
	/* a push's batch of records: the columns as arrays ($6 a binary bytea[]), one row each */
	[PG_RECORD_UPSERT_MANY] = RECORD_UPSERT_MANY("$1", "$2", "$3", "$4", "$5", "$6"),
	/* the same when none of them has a row yet (the push read their heads
	 * under the collection's row lock, which every writer of its records
	 * holds): a plain insert, no speculative one (20% of its time) */
	[PG_RECORD_INSERT_MANY] = RECORD_INSERT_MANY("$1", "$2", "$3", "$4", "$5", "$6"),
	/* the four in one: the records ($1..$6), the collection's counters
	 * ($7..$10), the account's usage ($11..$13), the members' bumps (the
	 * rows: whom to wake). Different tables, so the order in which
	 * PostgreSQL runs the parts does not matter */
#define PUSH_WRITES(records) \
	"WITH r AS (" records "), " \
	"c AS (" COLLECTION_UPDATE("$1", "$7", "$8", "$9", "$10") "), " \
	"a AS (" ACCOUNT_USAGE_ADD("$11", "$12", "$13") ") " SHARE_ACCOUNTS_BUMP("$1")
	[PG_PUSH_WRITES] = PUSH_WRITES(RECORD_UPSERT_MANY("$1", "$2", "$3", "$4", "$5", "$6")),
	[PG_PUSH_WRITES_NEW] = PUSH_WRITES(RECORD_INSERT_MANY("$1", "$2", "$3", "$4", "$5", "$6")),
#undef PUSH_WRITES
	/* keep the current version as history before it is replaced */
	[PG_RECORD_TO_HISTORY] =
	    "INSERT INTO history (collection_id, rid, version, modified_at, deleted, payload) "
	    "SELECT collection_id, rid, version, modified_at, deleted, payload FROM records "
	    "WHERE collection_id = $1 AND rid = $2",
	/* away with the history beyond the newest $3 versions of a record; one
	 * row: the payload bytes removed */
	[PG_HISTORY_PRUNE] =
	    "WITH d AS (DELETE FROM history WHERE collection_id = $1 AND rid = $2 AND "
	    "version <= (SELECT version FROM history WHERE collection_id = $1 AND rid = $2 "
	    "ORDER BY version DESC LIMIT 1 OFFSET $3) RETURNING coalesce(octet_length(payload), 0) AS n) "
	    "SELECT coalesce(sum(n), 0) FROM d",
	/* the same for the records of a text[] ($2) at once: a push's replaced ones */
	[PG_HISTORY_PRUNE_MANY] =
	    "WITH o AS (SELECT id, row_number() OVER (PARTITION BY rid ORDER BY version DESC) AS k FROM history "
	    "WHERE collection_id = $1 AND rid = ANY ($2::text[])), "
	    "d AS (DELETE FROM history h USING o WHERE h.id = o.id AND o.k > $3 "
	    "RETURNING coalesce(octet_length(h.payload), 0) AS n) "
	    "SELECT coalesce(sum(n), 0)::bigint FROM d",
	/* PG_RECORD_TO_HISTORY for the records of a text[] ($2) at once */
	[PG_RECORD_TO_HISTORY_MANY] =
	    "INSERT INTO history (collection_id, rid, version, modified_at, deleted, payload) "
	    "SELECT collection_id, rid, version, modified_at, deleted, payload FROM records "
	    "WHERE collection_id = $1 AND rid = ANY ($2::text[])",
	/*
	 * The first batch of a pull: records above version $2, ascending, at
	 * most $3 rows and no more than fit $4 bytes at the collection's largest
	 * payload (the first row always comes): one lookup in records_payload_len
	 * (sql/pg/009), the same snapshot as the rows. The sixth column is that
	 * row bound: a batch that reached it is continued by PG_RECORD_PULL_MORE.
	 */
#define RECORD_PULL_FIRST(with, col, since, rows, bytes) \
	"WITH " with "k AS (SELECT least(" rows "::bigint, greatest(1, " bytes "::bigint / " \
	"greatest(1, max(octet_length(payload))))) AS n " \
	"FROM records WHERE collection_id = " col ") " \
	"SELECT rid, version, modified_at, deleted, payload, (SELECT n FROM k) FROM records " \
	"WHERE collection_id = " col " AND version > " since " ORDER BY version LIMIT (SELECT n FROM k)"
	[PG_RECORD_PULL] = RECORD_PULL_FIRST("", "$1", "$2", "$3", "$4"),
	/* PG_RECORD_PULL from $1, at most $2 rows and $3 bytes, of the
	 * collection named $5 of account $4: sent ahead of the collection's
	 * own read (pg_pull_hint), it needs no id */
#define RECORD_PULL_NAMED(account) \
	RECORD_PULL_FIRST("c AS (SELECT id FROM collections WHERE account_id = " account " AND name = $5), ", \
	    "(SELECT id FROM c)", "$1", "$2", "$3")
	[PG_RECORD_PULL_NAMED] = RECORD_PULL_NAMED("$4"),
	/* the same of the account of access token $4 (store_pull_early) */
	[PG_RECORD_PULL_BY_TOKEN] = RECORD_PULL_NAMED(TOKEN_ACCOUNT("4")),
	/*
	 * The next batches of a pull whose first batch was cut by its largest
	 * payload: records above version $2, ascending, at most $3 rows, and no
	 * more once the payloads before a row reach $4 bytes (the first row
	 * always comes), a running sum: the caller walks a large pull batch by
	 * batch from the last version seen, so memory stays bounded by a batch.
	 */
	[PG_RECORD_PULL_MORE] =
	    "SELECT rid, version, modified_at, deleted, payload FROM ("
	    "SELECT rid, version, modified_at, deleted, payload, "
	    "sum(coalesce(octet_length(payload), 0)) OVER (ORDER BY version) AS upto FROM records "
	    "WHERE collection_id = $1 AND version > $2 ORDER BY version LIMIT $3) p "
	    "WHERE upto - coalesce(octet_length(payload), 0) < $4 ORDER BY version",
#undef RECORD_PULL_NAMED
#undef RECORD_PULL_FIRST
	[PG_HISTORY_LIST] =
	    "SELECT version, modified_at, deleted, coalesce(octet_length(payload), 0) FROM records "
	    "WHERE collection_id = $1 AND rid = $2 UNION ALL "
	    "SELECT version, modified_at, deleted, coalesce(octet_length(payload), 0) FROM history "
	    "WHERE collection_id = $1 AND rid = $2 ORDER BY 1 DESC",
	[PG_HISTORY_GET] =
	    "SELECT rid, version, modified_at, deleted, payload FROM records "
	    "WHERE collection_id = $1 AND rid = $2 AND version = $3 UNION ALL "
	    "SELECT rid, version, modified_at, deleted, payload FROM history "
	    "WHERE collection_id = $1 AND rid = $2 AND version = $3",

#define BACKUP_COLS STMT_BACKUP_COLS
	[PG_BACKUP_GET] = "SELECT " BACKUP_COLS " FROM backups WHERE account_id = $1 AND name = $2",
	/* inside store_tx: the account's row, then the backup's (store_pg_impl.h) */
	[PG_BACKUP_GET_LOCK] =
	    "WITH a AS MATERIALIZED (SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE) "
	    "SELECT " BACKUP_COLS " FROM backups WHERE account_id = (SELECT id FROM a) AND name = $2 "
	    "FOR NO KEY UPDATE",
	[PG_BACKUP_COUNT] = "SELECT count(*) FROM backups WHERE account_id = $1",
	[PG_BACKUP_LIST] = "SELECT " BACKUP_COLS " FROM backups WHERE account_id = $1 ORDER BY name",
	[PG_BACKUP_LIST_BY_TOKEN] =
	    "SELECT " BACKUP_COLS " FROM backups WHERE account_id = " TOKEN_ACCOUNT("1") " ORDER BY name",
	/* a new row; its version is set last (PG_BACKUP_VERSION), its bytes go to backup_chunks */
	[PG_BACKUP_INSERT] =
	    "INSERT INTO backups (account_id, name, version, bytes, sha256, created_at, modified_at) "
	    "VALUES ($1, $2, 0, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING id",
	/* a new version of row $1: its old chunks go in the same statement */
	[PG_BACKUP_REPLACE] =
	    "WITH gone AS (DELETE FROM backup_chunks WHERE backup_id = $1) "
	    "UPDATE backups SET bytes = $2, sha256 = $3, modified_at = $4 WHERE id = $1",
	/*
	 * The next value of the store-wide counter of backup and slot versions
	 * (never reused) into row $1. Taken as the last statement of a write,
	 * after the chunks: the counter's row lock, which every backup and
	 * slot write of the store waits for, is then held only until the commit.
	 */
	[PG_BACKUP_VERSION] =
	    "WITH v AS (UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'blob_version' "
	    "RETURNING value::bigint AS version) "
	    "UPDATE backups SET version = v.version FROM v WHERE id = $1 RETURNING backups.version",
	[PG_BACKUP_DELETE] = "DELETE FROM backups WHERE id = $1",
	[PG_BACKUP_SIZE] = "SELECT bytes FROM backups WHERE id = $1",
	[PG_BACKUP_CHUNK_INSERT] = "INSERT INTO backup_chunks (backup_id, seq, data) VALUES ($1, $2, $3)",
	[PG_BACKUP_CHUNK_READ] = "SELECT data FROM backup_chunks WHERE backup_id = $1 AND seq = $2",
#undef BACKUP_COLS

	/* the last access: of the write (slots.accessed_at) or of a read (slot_access) */
#define SLOT_SELECT \
	"SELECT s.rowid_, s.slot_id, s.key_hash, s.version, s.bytes, s.sha256, s.created_at, s.modified_at, " \
	"greatest(s.accessed_at, coalesce(a.accessed_at, 0)) FROM slots s LEFT JOIN slot_access a " \
	"ON a.slot = s.rowid_ WHERE s.slot_id = $1"
	[PG_SLOT_GET] = SLOT_SELECT,
	/* inside store_tx: the slot's row (slots belong to no account) */
	[PG_SLOT_GET_LOCK] = SLOT_SELECT " FOR NO KEY UPDATE OF s",
#undef SLOT_SELECT
	/*
	 * Inside store_tx, before PG_SLOT_GET_LOCK: the writers of one slot id
	 * follow each other, to the commit, even while it does not exist yet
	 * (no row to lock), so that of concurrent creates the later ones find
	 * the first's slot, as on SQLite, instead of losing an insert race. The
	 * first key is a constant of ours ("bsl"); ids that share a hash only wait.
	 */
	[PG_SLOT_ID_LOCK] = "SELECT pg_advisory_xact_lock(6452076, hashtext($1))",
	/* a taken id returns no row: ERR_CONFLICT, after the other writer's commit */
	[PG_SLOT_INSERT] =
	    "INSERT INTO slots (slot_id, key_hash, version, bytes, sha256, created_at, modified_at, accessed_at) "
	    "VALUES ($1, $2, 0, $3, $4, $5, $5, $5) ON CONFLICT DO NOTHING RETURNING rowid_",
	[PG_SLOT_REPLACE] =
	    "WITH gone AS (DELETE FROM slot_chunks WHERE slot = $1) "
	    "UPDATE slots SET bytes = $2, sha256 = $3, modified_at = $4, accessed_at = $4 WHERE rowid_ = $1",
	/* as PG_BACKUP_VERSION */
	[PG_SLOT_VERSION] =
	    "WITH v AS (UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'blob_version' "
	    "RETURNING value::bigint AS version) "
	    "UPDATE slots SET version = v.version FROM v WHERE rowid_ = $1 RETURNING slots.version",
	[PG_SLOT_DELETE] = "DELETE FROM slots WHERE rowid_ = $1",
	[PG_SLOT_SIZE] = "SELECT bytes FROM slots WHERE rowid_ = $1",
	[PG_SLOT_CHUNK_INSERT] = "INSERT INTO slot_chunks (slot, seq, data) VALUES ($1, $2, $3)",
	[PG_SLOT_CHUNK_READ] = "SELECT data FROM slot_chunks WHERE slot = $1 AND seq = $2",
	[PG_SLOT_TOUCH] =
	    "INSERT INTO slot_access (slot, accessed_at) VALUES ($1, $2) "
	    "ON CONFLICT (slot) DO UPDATE SET accessed_at = excluded.accessed_at",

	/* ---- export and import (store_pg_transfer.c) ---- */
	/* one batch of a record's kept older versions, newest first, below
	 * version $3: at most $4 rows and $5 bytes as PG_RECORD_PULL_MORE */
	[PG_TRANSFER_HISTORY] =
	    "SELECT rid, version, modified_at, deleted, payload FROM ("
	    "SELECT rid, version, modified_at, deleted, payload, "
	    "sum(coalesce(octet_length(payload), 0)) OVER (ORDER BY version DESC) AS upto FROM history "
	    "WHERE collection_id = $1 AND rid = $2 AND version < $3 ORDER BY version DESC LIMIT $4) h "
	    "WHERE upto - coalesce(octet_length(payload), 0) < $5 ORDER BY version DESC",
	/* plain inserts: a repeated id or version returns no row (ERR_CONFLICT), never an overwrite */
	[PG_TRANSFER_RECORD_INSERT] =
	    "INSERT INTO records (collection_id, rid, version, modified_at, deleted, payload) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
	[PG_TRANSFER_HISTORY_INSERT] =
	    "INSERT INTO history (collection_id, rid, version, modified_at, deleted, payload) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
	[PG_TRANSFER_COLLECTION_SET] =
	    "UPDATE collections SET version = $2, records = $3, bytes = $4, purged_version = $5, modified_at = $6 "
	    "WHERE id = $1",
	/* a backup with its exported time; its version is set last (PG_TRANSFER_BACKUP_VERSION) */
	[PG_TRANSFER_BACKUP_INSERT] =
	    "INSERT INTO backups (account_id, name, version, bytes, sha256, created_at, modified_at) "
	    "VALUES ($1, $2, 0, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
	/* the version of imported backup $1: the exported one $2 if the
	 * store-wide counter is below it, else the counter's next; the counter
	 * never goes back */
	[PG_TRANSFER_BACKUP_VERSION] =
	    "WITH v AS (UPDATE meta SET value = greatest(value::bigint + 1, $2)::text WHERE key = 'blob_version' "
	    "RETURNING value::bigint AS version) "
	    "UPDATE backups SET version = v.version FROM v WHERE id = $1 RETURNING backups.version",
	/* two-factor login and the recovery key: an account that never began TOTP reads as all zero */
	[PG_MFA_GET] =
	    "SELECT m.totp_secret, coalesce(m.totp_on, 0), coalesce(m.last_step, 0), coalesce(m.fails, 0), "
	    "coalesce(m.locked_until, 0), EXISTS (SELECT 1 FROM recovery_keys k WHERE k.account_id = a.id), "
	    "(SELECT count(*) FROM recovery_codes c WHERE c.account_id = a.id) "
	    "FROM accounts a LEFT JOIN account_mfa m ON m.account_id = a.id WHERE a.id = $1",
	[PG_MFA_SET] =
	    "INSERT INTO account_mfa (account_id, totp_secret, totp_on, last_step, fails, locked_until) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id) DO UPDATE SET totp_secret = excluded.totp_secret, "
	    "totp_on = excluded.totp_on, last_step = excluded.last_step, fails = excluded.fails, "
	    "locked_until = excluded.locked_until",
	[PG_MFA_CODES_DELETE] = "DELETE FROM recovery_codes WHERE account_id = $1",
	[PG_MFA_CODE_INSERT] = "INSERT INTO recovery_codes (account_id, hash) VALUES ($1, $2)",
	[PG_MFA_CODE_USE] = "DELETE FROM recovery_codes WHERE account_id = $1 AND hash = $2",
	[PG_RECOVERY_GET] =
	    "SELECT auth_hash, auth_salt, auth_iterations, blob FROM recovery_keys WHERE account_id = $1",
	[PG_RECOVERY_PUT] =
	    "INSERT INTO recovery_keys (account_id, auth_hash, auth_salt, auth_iterations, blob, created_at) "
	    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id) DO UPDATE SET auth_hash = excluded.auth_hash, "
	    "auth_salt = excluded.auth_salt, auth_iterations = excluded.auth_iterations, blob = excluded.blob, "
	    "created_at = excluded.created_at, reset_hash = NULL, reset_expires = NULL",
	[PG_RECOVERY_DELETE] = "DELETE FROM recovery_keys WHERE account_id = $1",
	[PG_RECOVERY_RESET_SET] =
	    "UPDATE recovery_keys SET reset_hash = $2, reset_expires = $3 WHERE account_id = $1",
	[PG_RECOVERY_RESET_FIND] =
	    "SELECT account_id FROM recovery_keys WHERE reset_hash = $1 AND reset_expires > $2",

	/* the tickets of blindsync-live: as stmt.c's STMT_LIVE_* */
	[PG_LIVE_TICKET_PRUNE] = "DELETE FROM live_tickets WHERE expires_at <= $1",
	[PG_LIVE_TICKET_INSERT] =
	    "INSERT INTO live_tickets (hash, account_id, device_id, expires_at) VALUES ($1, $2, $3, $4)",
	/* single use: the row goes whether or not it is still valid */
	[PG_LIVE_TICKET_TAKE] =
	    "DELETE FROM live_tickets WHERE hash = $1 RETURNING account_id, device_id, expires_at",
	/* the device still has a session (an unexpired, unused token) and its
	 * account is not disabled; one row or none */
	[PG_LIVE_DEVICE_OK] =
	    "SELECT (SELECT max(t.expires_at) FROM tokens t WHERE t.device_id = d.id AND t.expires_at > $3 "
	    "AND t.used_at IS NULL) FROM devices d JOIN accounts a ON a.id = d.account_id "
	    "WHERE d.id = $1 AND d.account_id = $2 AND a.disabled = 0",
	/* ---- maintenance and blindsync-admin (store_pg_admin.c) ---- */
	/* check --repair: the counters' writers (pushes, backups) wait until the
	 * repair commits, as they wait for SQLite's write lock */
	[PG_ADMIN_LOCK_COUNTERS] = "LOCK TABLE accounts, collections IN SHARE ROW EXCLUSIVE MODE",
/* as stmt.c's RECOUNT_CTE: per collection n (current records that are not
 * tombstones), b (payload bytes of the records and the kept history), v
 * (the highest version in use) */
#define RECOUNT_CTE \
	"WITH rc AS (SELECT c.id AS id, c.account_id AS account_id, coalesce(r.n, 0) AS n, " \
	"coalesce(r.b, 0) + coalesce(h.b, 0) AS b, greatest(coalesce(r.v, 0), coalesce(h.v, 0)) AS v " \
	"FROM collections c " \
	"LEFT JOIN (SELECT collection_id, count(*) FILTER (WHERE deleted = 0) AS n, " \
	"coalesce(sum(octet_length(payload)), 0)::bigint AS b, max(version) AS v " \
	"FROM records GROUP BY collection_id) r ON r.collection_id = c.id " \
	"LEFT JOIN (SELECT collection_id, coalesce(sum(octet_length(payload)), 0)::bigint AS b, max(version) AS v " \
	"FROM history GROUP BY collection_id) h ON h.collection_id = c.id) "
	[PG_ADMIN_RECOUNT_COLLECTIONS] =
	    RECOUNT_CTE
	    "SELECT c.id, c.account_id, a.username, c.name, c.records, c.bytes, c.version, rc.n, rc.b, rc.v "
	    "FROM collections c JOIN rc ON rc.id = c.id JOIN accounts a ON a.id = c.account_id "
	    "ORDER BY a.username, c.name",
	/* the backups' bytes recounted from their chunks */
	[PG_ADMIN_RECOUNT_ACCOUNTS] =
	    RECOUNT_CTE
	    "SELECT a.id, a.username, a.usage_bytes, a.usage_records, (coalesce(sum(rc.b), 0) + "
	    "(SELECT coalesce(sum(octet_length(k.data)), 0) FROM backups b JOIN backup_chunks k ON k.backup_id = b.id "
	    "WHERE b.account_id = a.id))::bigint, coalesce(sum(rc.n), 0)::bigint "
	    "FROM accounts a LEFT JOIN rc ON rc.account_id = a.id GROUP BY a.id ORDER BY a.username",
#undef RECOUNT_CTE
	[PG_ADMIN_COLLECTION_SET_COUNTERS] =
	    "UPDATE collections SET records = $2, bytes = $3, version = greatest(version, $4) WHERE id = $1",
	[PG_ADMIN_ACCOUNT_SET_USAGE] = "UPDATE accounts SET usage_bytes = $2, usage_records = $3 WHERE id = $1",
	/* purge: at most $2 rows per statement (blindsync-admin purge repeats it) */
	[PG_PURGE_TOKENS] = "DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires_at <= $1 LIMIT $2)",
	[PG_PURGE_INVITES] =
	    "DELETE FROM invites WHERE id IN (SELECT id FROM invites WHERE expires_at <= $1 AND used_at IS NULL LIMIT $2)",
	[PG_PURGE_EVENTS] = "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < $1 ORDER BY id LIMIT $2)",
	[PG_PURGE_SLOTS] =
	    "DELETE FROM slots WHERE rowid_ IN (SELECT s.rowid_ FROM slots s LEFT JOIN slot_access a "
	    "ON a.slot = s.rowid_ WHERE greatest(s.accessed_at, coalesce(a.accessed_at, 0)) < $1 LIMIT $2)",
	/* the first $2 collections with tombstones modified before $1, and their accounts */
	[PG_PURGE_TOMBSTONE_SCAN] =
	    "SELECT t.collection_id, c.account_id FROM records t JOIN collections c ON c.id = t.collection_id "
	    "WHERE t.deleted = 1 AND t.modified_at < $1 GROUP BY t.collection_id, c.account_id "
	    "ORDER BY t.collection_id LIMIT $2",
	/* the account's row, then the collection's, as a push takes them: the
	 * purge of one collection and its pushes follow each other */
	[PG_PURGE_COLLECTION_LOCK] =
	    "WITH a AS MATERIALIZED (SELECT id FROM accounts WHERE id = $2 FOR NO KEY UPDATE) "
	    "SELECT id FROM collections WHERE id = $1 AND account_id = (SELECT id FROM a) FOR UPDATE",
	/* under those locks: the highest tombstone version before $2, their
	 * number, and the payload bytes they and their records' history hold */
	[PG_PURGE_TOMBSTONE_STAT] =
	    "SELECT coalesce(max(t.version), 0), count(*), (coalesce(sum(octet_length(t.payload)), 0) + "
	    "(SELECT coalesce(sum(octet_length(h.payload)), 0) FROM history h WHERE h.collection_id = $1 "
	    "AND h.rid IN (SELECT rid FROM records WHERE collection_id = $1 AND deleted = 1 AND modified_at < $2)))::bigint "
	    "FROM records t WHERE t.collection_id = $1 AND t.deleted = 1 AND t.modified_at < $2",
	[PG_PURGE_TOMBSTONE_HISTORY] =
	    "DELETE FROM history WHERE collection_id = $1 AND rid IN "
	    "(SELECT rid FROM records WHERE collection_id = $1 AND deleted = 1 AND modified_at < $2)",
	[PG_PURGE_TOMBSTONE_RECORDS] = "DELETE FROM records WHERE collection_id = $1 AND deleted = 1 AND modified_at < $2",
	[PG_PURGE_TOMBSTONE_COLLECTION] =
	    "UPDATE collections SET bytes = bytes - $2, purged_version = greatest(purged_version, $3) WHERE id = $1",
	[PG_PURGE_REVERSION_SCAN] =
	    "SELECT c.version, (SELECT coalesce(max(version), 0) FROM records WHERE collection_id = $1 "
	    "AND version <= $2) FROM collections c WHERE c.id = $1",
	/* old + the collection's version: above every version in use, so the
	 * unique (collection_id, version) index never sees a clash, row by row */
	[PG_PURGE_REVERSION] = "UPDATE records SET version = version + $3 WHERE collection_id = $1 AND version <= $2",
	[PG_PURGE_REVERSION_COLLECTION] = "UPDATE collections SET version = $2 WHERE id = $1",
	[PG_ADMIN_INVITE_STATE] = "SELECT (used_at IS NOT NULL)::int FROM invites WHERE id = $1",
	[PG_ADMIN_INVITE_REVOKE] = "DELETE FROM invites WHERE id = $1 AND used_at IS NULL",
	[PG_ADMIN_DEVICE_DELETE_ACCOUNT] = "DELETE FROM devices WHERE account_id = $1",
	[PG_ADMIN_COLLECTIONS_TOTAL] = "SELECT count(*) FROM collections",
	[PG_ADMIN_TOP_ACCOUNTS] =
	    "SELECT username, usage_bytes, usage_records FROM accounts ORDER BY usage_bytes DESC, username LIMIT $1",

	/* ---- sharing: keys, members, invitations, grants (store_pg_share.c) ---- */
	/* a row comes back when the keys are new or differ (*changed) */
	[PG_KEYS_PUT] =
	    "INSERT INTO account_keys (account_id, x25519, ed25519, updated_at) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (account_id) DO UPDATE SET x25519 = excluded.x25519, ed25519 = excluded.ed25519, "
	    "updated_at = excluded.updated_at "
	    "WHERE account_keys.x25519 <> excluded.x25519 OR account_keys.ed25519 <> excluded.ed25519 RETURNING 1",
	[PG_KEYS_GET] = "SELECT x25519, ed25519 FROM account_keys WHERE account_id = $1",
	[PG_MEMBER_ROLE] = "SELECT role FROM members WHERE collection_id = $1 AND account_id = $2",
	[PG_MEMBER_LIST] =
	    "SELECT m.account_id, a.username, m.role, m.joined_at FROM members m JOIN accounts a ON a.id = m.account_id "
	    "WHERE m.collection_id = $1 ORDER BY a.username",
	[PG_MEMBER_COUNT] = "SELECT count(*) FROM members WHERE collection_id = $1",
	[PG_MEMBER_PUT] =
	    "INSERT INTO members (collection_id, account_id, role, joined_at) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (collection_id, account_id) DO UPDATE SET role = excluded.role",
	/* the member and its grants of the collection; one row: members removed (0 or 1) */
	[PG_MEMBER_DELETE] =
	    "WITH m AS (DELETE FROM members WHERE collection_id = $1 AND account_id = $2 RETURNING 1), "
	    "g AS (DELETE FROM grants WHERE collection_id = $1 AND account_id = $2 AND EXISTS (SELECT 1 FROM m)), "
	    /* the key must be rotated now (sql/pg/006); the row is ours since the members bump */
	    "r AS (UPDATE collections SET rotate_due = 1 WHERE id = $1 AND EXISTS (SELECT 1 FROM m)) "
	    "SELECT count(*) FROM m",
#define SHARED_LIST(account) \
	"SELECT c.id, c.account_id, c.name, c.version, c.records, c.bytes, c.created_at, c.modified_at, " \
	"c.purged_version, c.key_version, c.members_version, c.rotate_due, c.meta, o.username, m.role " \
	"FROM members m JOIN collections c ON c.id = m.collection_id JOIN accounts o ON o.id = c.account_id " \
	"WHERE m.account_id = " account " ORDER BY o.username, c.name"
	[PG_SHARED_LIST] = SHARED_LIST("$1"),
	[PG_SHARED_LIST_BY_TOKEN] = SHARED_LIST(TOKEN_ACCOUNT("1")),
#undef SHARED_LIST
	/*
	 * Inside store_tx, before anything of a collection's membership is read
	 * or written: its owner's account row, then its own, in the order every
	 * writer of the collection takes them (a push: PG_ACCOUNT_BY_ID_LOCK,
	 * PG_COLLECTION_GET_LOCK), held to the commit. The membership changes,
	 * rotations and pushes of one collection follow each other.
	 */
#define SHARE_OWNER_LOCK \
	"WITH a AS MATERIALIZED (SELECT id FROM accounts WHERE id = " \
	"(SELECT account_id FROM collections WHERE id = $1) FOR NO KEY UPDATE) "
	[PG_SHARE_COLLECTION_LOCK] =
	    SHARE_OWNER_LOCK "SELECT id FROM collections WHERE id = $1 AND account_id = (SELECT id FROM a) "
	    "FOR NO KEY UPDATE",
	[PG_SHARE_MEMBERS_BUMP] =
	    SHARE_OWNER_LOCK "UPDATE collections SET members_version = members_version + 1 "
	    "WHERE id = $1 AND account_id = (SELECT id FROM a) RETURNING members_version",
	/* the versions are re-checked under the row lock (a concurrent change
	 * that committed first makes this one change nothing: 412) */
	[PG_SHARE_ROTATE_MARK] =
	    SHARE_OWNER_LOCK "UPDATE collections SET key_version = key_version + 1, "
	    "members_version = members_version + 1, rotate_due = 0 WHERE id = $1 AND account_id = (SELECT id FROM a) "
	    "AND members_version = $2 AND key_version = $3 RETURNING members_version",
#undef SHARE_OWNER_LOCK
	/* the row is ours since the members bump (sql/pg/006) */
	[PG_SHARE_ROTATE_DUE] = "UPDATE collections SET rotate_due = 1 WHERE id = $1",
	[PG_SHARE_MEMBERS_VERSION] = "SELECT members_version FROM collections WHERE id = $1",
	/*
	 * account_version + 1 of every member, in one statement. Not in their
	 * accounts rows but in share_bumps (read as part of account_version):
	 * a push holds its owner's accounts row (quota) and, were the members'
	 * rows bumped, two pushes by accounts that each are a member of the
	 * other's collection would wait for each other. share_bumps rows are
	 * taken only here, after any accounts row, and in ascending id order:
	 * two transactions bumping overlapping members never deadlock.
	 */
	[PG_SHARE_ACCOUNTS_BUMP] = SHARE_ACCOUNTS_BUMP("$1"),
	/* before account $1 goes: everyone who shares a collection with it, as above */
	[PG_SHARE_PEERS_BUMP] =
	    "WITH p AS (SELECT m.account_id AS id FROM members m JOIN collections c ON c.id = m.collection_id "
	    "WHERE c.account_id = $1 "
	    "UNION SELECT c.account_id FROM members m JOIN collections c ON c.id = m.collection_id WHERE m.account_id = $1 "
	    "UNION SELECT o.account_id FROM members m JOIN members o ON o.collection_id = m.collection_id "
	    "WHERE m.account_id = $1) "
	    "INSERT INTO share_bumps (account_id, n) SELECT id, 1 FROM p WHERE id <> $1 ORDER BY id "
	    "ON CONFLICT (account_id) DO UPDATE SET n = share_bumps.n + 1 RETURNING account_id",
	/* and the collections it is a member of */
	[PG_SHARE_PEERS_COLLECTIONS] =
	    "UPDATE collections SET members_version = members_version + 1 "
	    "WHERE id IN (SELECT collection_id FROM members WHERE account_id = $1)",
	/* an expired invitation of the collection to the account makes room for a new one */
	[PG_INVITATION_EXPIRED_DELETE] =
	    "DELETE FROM invitations WHERE collection_id = $1 AND to_id = $2 AND expires_at <= $3",
	/* a pending one (or a taken public id) returns no row: ERR_CONFLICT, nothing aborted */
	[PG_INVITATION_INSERT] =
	    "INSERT INTO invitations (public_id, collection_id, from_id, to_id, role, key_version, sealed, signature, "
	    "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING id",
	[PG_INVITATION_COLLECTION] = "SELECT collection_id FROM invitations WHERE public_id = $1",
#define INVITATION_SELECT STMT_INVITATION_SELECT
	[PG_INVITATION_GET] = INVITATION_SELECT "WHERE i.public_id = $1 AND i.expires_at > $2",
	[PG_INVITATION_LIST_TO] = INVITATION_SELECT "WHERE i.to_id = $1 AND i.expires_at > $2 ORDER BY i.id",
	[PG_INVITATION_LIST_COLLECTION] =
	    INVITATION_SELECT "WHERE i.collection_id = $1 AND i.expires_at > $2 ORDER BY i.id",
	/* blindsync-admin purge: the first $2 expired by $1 */
	[PG_INVITATION_LIST_EXPIRED] = INVITATION_SELECT "WHERE i.expires_at <= $1 ORDER BY i.id LIMIT $2",
#undef INVITATION_SELECT
	[PG_INVITATION_COUNT_FROM] = "SELECT count(*) FROM invitations WHERE from_id = $1 AND expires_at > $2",
	/*
	 * Inside store_tx, before the count: the inviters of one account follow
	 * each other, on every node, so that two invitations to two collections
	 * cannot both pass the limit. An advisory lock (first key a constant of
	 * ours, "bsi"), not the account's row: taken after a collection's locks,
	 * a row lock there could meet a push's in the other order. Ids that
	 * share the second key only wait.
	 */
	[PG_INVITATION_FROM_LOCK] = "SELECT pg_advisory_xact_lock(6452073, ($1::bigint % 2147483647)::integer)",
	[PG_INVITATION_PENDING] =
	    "SELECT EXISTS (SELECT 1 FROM invitations WHERE collection_id = $1 AND to_id = $2 AND expires_at > $3)",
	[PG_INVITATION_DELETE] = "DELETE FROM invitations WHERE id = $1",
	[PG_INVITATION_REGRANT] = "UPDATE invitations SET key_version = $2, sealed = $3, signature = $4 WHERE id = $1",
	[PG_GRANT_PUT] =
	    "INSERT INTO grants (collection_id, account_id, key_version, from_name, from_x25519, from_ed25519, sealed, "
	    "signature, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
	    "ON CONFLICT (collection_id, account_id, key_version) DO UPDATE SET from_name = excluded.from_name, "
	    "from_x25519 = excluded.from_x25519, from_ed25519 = excluded.from_ed25519, sealed = excluded.sealed, "
	    "signature = excluded.signature, created_at = excluded.created_at",
	/* the newest grant ($3 = 0) or the one of key version $3 */
	[PG_GRANT_GET] =
	    "SELECT key_version, from_name, from_x25519, from_ed25519, sealed, signature, created_at FROM grants "
	    "WHERE collection_id = $1 AND account_id = $2 AND ($3::bigint = 0 OR key_version = $3) "
	    "ORDER BY key_version DESC LIMIT 1",

	/* ---- rate limits kept in the database (store_pg_limit.c) ---- */
	/* the clock every node shares: the database's, in milliseconds */
	[PG_LIMIT_NOW] = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint",
	/* a new bucket is full ($2 units at $3); an existing one is left as it is */
	[PG_LIMIT_ENSURE] =
	    "INSERT INTO rate_buckets (id, units, last_ms, full_ms) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING",
	[PG_LIMIT_LOCK] = "SELECT units, last_ms FROM rate_buckets WHERE id = $1 FOR UPDATE",
	[PG_LIMIT_SET] = "UPDATE rate_buckets SET units = $2, last_ms = $3, full_ms = $4 WHERE id = $1",
	/* buckets full again by $1 carry nothing: a few of them go at each take */
	[PG_LIMIT_SWEEP] =
	    "DELETE FROM rate_buckets WHERE id IN (SELECT id FROM rate_buckets WHERE full_ms < $1 LIMIT 16 "
	    "FOR UPDATE SKIP LOCKED)",

	/* ---- migrate-store (store_pg_copy.c) ----
	 * every column as it is, in store_table_info's order, the rows in key
	 * order through one cursor; an insert never overwrites, except meta's */
#define COPY(T, table, cols, key, params) \
	[PG_COPY_DECLARE_##T] = "DECLARE bs_copy NO SCROLL CURSOR FOR SELECT " cols " FROM " table " ORDER BY " key, \
	[PG_COPY_INSERT_##T] = "INSERT INTO " table " (" cols ") VALUES (" params ")", \
	[PG_COPY_COUNT_##T] = "SELECT count(*) FROM " table,
	[PG_COPY_DECLARE_META] = "DECLARE bs_copy NO SCROLL CURSOR FOR SELECT key, value FROM meta ORDER BY key",
	[PG_COPY_INSERT_META] =
	    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[PG_COPY_COUNT_META] = "SELECT count(*) FROM meta",
	/* accounts: account_version as it reads (with its share_bumps, which are not copied) */
	[PG_COPY_DECLARE_ACCOUNTS] =
	    "DECLARE bs_copy NO SCROLL CURSOR FOR SELECT id, public_id, username, auth_hash, auth_salt, auth_iterations, "
	    "kdf, keyring, keyring_version, created_at, disabled, plan, quota_bytes, usage_bytes, usage_records, "
	    ACCOUNT_VERSION " FROM accounts ORDER BY id",
	[PG_COPY_INSERT_ACCOUNTS] =
	    "INSERT INTO accounts (id, public_id, username, auth_hash, auth_salt, auth_iterations, kdf, keyring, "
	    "keyring_version, created_at, disabled, plan, quota_bytes, usage_bytes, usage_records, account_version) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
	[PG_COPY_COUNT_ACCOUNTS] = "SELECT count(*) FROM accounts",
#undef ACCOUNT_VERSION
	COPY(DEVICES, "devices", "id, public_id, account_id, name, type, created_at, last_seen_at", "id",
	    "$1, $2, $3, $4, $5, $6, $7")
	COPY(TOKENS, "tokens", "hash, kind, account_id, device_id, expires_at, used_at", "hash", "$1, $2, $3, $4, $5, $6")
	COPY(INVITES, "invites", "id, hash, created_at, expires_at, used_at, used_by", "id", "$1, $2, $3, $4, $5, $6")
	COPY(EVENTS, "events", "id, account_id, at, type, device", "id", "$1, $2, $3, $4, $5")
	COPY(COLLECTIONS, "collections", "id, account_id, name, version, records, bytes, meta, created_at, "
	    "modified_at, purged_version, key_version, members_version, rotate_due", "id",
	    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13")
	COPY(FLOORS, "collection_floors", "account_id, name, version, members_version", "account_id, name",
	    "$1, $2, $3, $4")
	COPY(RECORDS, "records", "collection_id, rid, version, modified_at, deleted, payload", "collection_id, rid",
	    "$1, $2, $3, $4, $5, $6")
	COPY(HISTORY, "history", "id, collection_id, rid, version, modified_at, deleted, payload", "id",
	    "$1, $2, $3, $4, $5, $6, $7")
	/* blobs: the row; its chunks follow (pg_backup_fill, pg_slot_fill) */
	COPY(BACKUPS, "backups", "id, account_id, name, version, bytes, sha256, created_at, modified_at", "id",
	    "$1, $2, $3, $4, $5, $6, $7, $8")
	COPY(SLOTS, "slots", "rowid_, slot_id, key_hash, version, bytes, sha256, created_at, modified_at, accessed_at",
	    "rowid_", "$1, $2, $3, $4, $5, $6, $7, $8, $9")
	COPY(SLOT_ACCESS, "slot_access", "slot, accessed_at", "slot", "$1, $2")
	COPY(MFA, "account_mfa", "account_id, totp_secret, totp_on, last_step, fails, locked_until", "account_id",
	    "$1, $2, $3, $4, $5, $6")
	COPY(RECOVERY_CODES, "recovery_codes", "account_id, hash", "account_id, hash", "$1, $2")
	COPY(RECOVERY_KEYS, "recovery_keys", "account_id, auth_hash, auth_salt, auth_iterations, blob, created_at, "
	    "reset_hash, reset_expires", "account_id", "$1, $2, $3, $4, $5, $6, $7, $8")
	COPY(ACCOUNT_KEYS, "account_keys", "account_id, x25519, ed25519, updated_at", "account_id", "$1, $2, $3, $4")
	COPY(MEMBERS, "members", "collection_id, account_id, role, joined_at", "collection_id, account_id",
	    "$1, $2, $3, $4")
	COPY(INVITATIONS, "invitations", "id, public_id, collection_id, from_id, to_id, role, key_version, sealed, "
	    "signature, created_at, expires_at", "id", "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11")
	COPY(GRANTS, "grants", "collection_id, account_id, key_version, from_name, from_x25519, from_ed25519, sealed, "
	    "signature, created_at", "collection_id, account_id, key_version", "$1, $2, $3, $4, $5, $6, $7, $8, $9")
#undef COPY
	[PG_COPY_FETCH] = "FETCH FORWARD 128 FROM bs_copy",
	[PG_COPY_CLOSE] = "CLOSE bs_copy",
	/* ids copied as they were: each identity goes on past the largest */
#define IDENTITY(table, col) \
	"setval(pg_get_serial_sequence('" table "', '" col "'), (SELECT coalesce(max(" col "), 0) + 1 FROM " table "), false)"
	[PG_COPY_IDENTITIES] =
	    "SELECT " IDENTITY("accounts", "id") ", " IDENTITY("devices", "id") ", " IDENTITY("invites", "id") ", "
	    IDENTITY("events", "id") ", " IDENTITY("collections", "id") ", "
	    IDENTITY("history", "id") ", " IDENTITY("backups", "id") ", " IDENTITY("slots", "rowid_") ", "
	    IDENTITY("invitations", "id"),
#undef IDENTITY
#undef TOKEN_ACCOUNT
};
#undef RECORD_UPSERT_MANY
#undef RECORD_INSERT_MANY
#undef COLLECTION_UPDATE
#undef ACCOUNT_USAGE_ADD
#undef SHARE_ACCOUNTS_BUMP

_Static_assert(sizeof pg_stmt_sql / sizeof pg_stmt_sql[0] == PG__MAX, "pg_stmt_sql out of step with enum pgstmt");
