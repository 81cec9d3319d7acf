/*
 * stmt_cols.h: the column lists that the SQLite (stmt.c) and the
 * PostgreSQL (stmt_pg.c) statements select in the same order, because one
 * row reader per backend reads them by index (store_read_collection and
 * pg_read_collection, read_backup, the invitation readers) and the two
 * readers must agree. Plain SQL text with no parameters: each dialect
 * adds its own WHERE with ?N or $N. Must never hold a dialect's own
 * syntax.
 */
#ifndef BLINDSYNC_STMT_COLS_H
#define BLINDSYNC_STMT_COLS_H

/* a collection: columns 0..11 (meta, where wanted, is selected after them as 12) */
#define STMT_COLLECTION_COLS "id, account_id, name, version, records, bytes, created_at, modified_at, " \
	"purged_version, key_version, members_version, rotate_due"

/* a backup's row, without its data */
#define STMT_BACKUP_COLS "id, name, version, bytes, sha256, created_at, modified_at"

/* an invitation with its collection, its owner, inviter (and the inviter's keys) and invitee */
#define STMT_INVITATION_SELECT \
	"SELECT i.id, i.public_id, i.collection_id, c.name, c.account_id, o.username, i.from_id, f.username, " \
	"k.x25519, k.ed25519, i.to_id, t.username, i.role, i.key_version, i.sealed, i.signature, i.created_at, " \
	"i.expires_at FROM invitations i JOIN collections c ON c.id = i.collection_id " \
	"JOIN accounts o ON o.id = c.account_id JOIN accounts f ON f.id = i.from_id " \
	"JOIN accounts t ON t.id = i.to_id LEFT JOIN account_keys k ON k.account_id = i.from_id "

#endif
