/*
 * stmt.h: every SQL statement of the store, by index.
 *
 * The text lives in stmt.c, in one table beside this enum (a static assert
 * keeps them in step). store*.c prepares all of them once per connection and
 * uses them by index with bound parameters; SQL is never built from input.
 */
#ifndef BLINDSYNC_STMT_H
#define BLINDSYNC_STMT_H

enum stmt {
	STMT_BEGIN_IMMEDIATE,
	STMT_BEGIN_DEFERRED,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_HEALTH,
	/* accounts */
	STMT_ACCOUNT_INSERT,
	STMT_ACCOUNT_BY_NAME,
	STMT_ACCOUNT_BY_ID,
	STMT_ACCOUNT_KEYRING,
	STMT_ACCOUNT_SET_AUTH,
	STMT_ACCOUNT_SET_KDF,
	STMT_ACCOUNT_SET_KEYRING,
	STMT_ACCOUNT_DELETE,
	STMT_ACCOUNT_SET_DISABLED,
	STMT_ACCOUNT_LIST,
	STMT_ACCOUNT_BUMP,
	/* devices */
	STMT_DEVICE_INSERT,
	STMT_DEVICE_LIST,
	STMT_DEVICE_BY_PUBLIC,
	STMT_DEVICE_DELETE,
	STMT_DEVICE_DELETE_OTHERS,
	STMT_DEVICE_TOUCH,
	/* tokens */
	STMT_TOKEN_INSERT,
	STMT_TOKEN_ACCESS,
	STMT_TOKEN_REFRESH,
	STMT_TOKEN_MARK_USED,
	STMT_TOKEN_DELETE_DEVICE,
	STMT_TOKEN_PRUNE_DEVICE,
	STMT_TOKEN_DELETE_ACCOUNT,
	/* invites */
	STMT_INVITE_INSERT,
	STMT_INVITE_USE,
	STMT_INVITE_LIST,
	/* events */
	STMT_EVENT_INSERT,
	STMT_EVENT_PRUNE,
	STMT_EVENT_LIST,
	STMT__MAX
};

extern const char *const stmt_sql[STMT__MAX];

#endif
