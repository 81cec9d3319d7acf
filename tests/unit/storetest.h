/*
 * storetest.h: stores and accounts for the store's unit tests, a header
 * only, on either backend. stt_fresh migrates and opens a new store at a
 * location (an SQLite path, or a PostgreSQL URI: stt_fresh_pg makes one
 * with pgtest.h), stt_open opens another connection to it (a thread's
 * own), stt_register makes an account the way a client does
 * (accounts_register), and stt_rec_collect gathers what a record listing
 * passes into a struct stt_reclist. Every failure is counted (t.h) and
 * said on stderr; nothing here skips a test.
 */
#ifndef BLINDSYNC_STORETEST_H
#define BLINDSYNC_STORETEST_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "config.h"
#include "store.h"

#include "t.h"
#include "pgtest.h"

/* Another read-write connection to the store at location; NULL (a failure counted) if not. */
static inline struct store *stt_open(const char *location)
{
	struct store *s = NULL;
	char err[512];
	if (store_open(location, STORE_RW, &s, err, sizeof err) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		T_OK(0);
		return NULL;
	}
	return s;
}

/* Migrate a new store at location and open it read-write; NULL (a failure counted) if not. */
static inline struct store *stt_fresh(const char *location)
{
	char err[512];
	if (store_migrate(location, err, sizeof err) != 0) {
		fprintf(stderr, "store_migrate: %s\n", err);
		T_OK(0);
		return NULL;
	}
	return stt_open(location);
}

/* The same in a new PostgreSQL schema (pgtest.h), whose URI goes to uri (len bytes). */
static inline struct store *stt_fresh_pg(char *uri, size_t len)
{
	return stt_fresh(pgt_new_uri(uri, len));
}

/*
 * Register `name` through accounts_register with an auth key of 32 bytes
 * of key_fill and a fixed cheap KDF; its public id into pub when not
 * NULL. Returns the account's row id, or -1 (a failure counted).
 */
static inline int64_t stt_register(struct store *s, const struct config *cfg, const char *name, uint8_t key_fill,
    char pub[STORE_PUBLIC_ID_MAX + 1])
{
	struct accounts_register_in in;
	uint8_t key[32];
	char own[STORE_PUBLIC_ID_MAX + 1];
	struct store_account a;
	memset(&in, 0, sizeof in);
	memset(key, key_fill, sizeof key);
	in.username = name;
	in.auth_key = key;
	in.auth_key_len = sizeof key;
	in.kdf = "{\"alg\":\"pbkdf2-sha256\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}";
	T_EQ_INT(accounts_register(s, cfg, &in, pub ? pub : own), ERR_OK);
	if (store_account_by_name(s, name, &a) != ERR_OK) {
		T_OK(0);
		return -1;
	}
	return a.id;
}

/* What a record listing passed (the first 32 records; n counts them all). */
struct stt_reclist {
	int n;
	int stop_after; /* nonzero: stop the listing after this many */
	int64_t versions[32];
	char rids[32][16];
	int deleted[32];
	size_t lens[32];
	int nullpay[32];
};

/* A store_record_* callback: ctx is a struct stt_reclist. */
static inline int stt_rec_collect(void *ctx, const struct store_record *r)
{
	struct stt_reclist *l = ctx;
	if (l->n < 32) {
		l->versions[l->n] = r->version;
		snprintf(l->rids[l->n], sizeof l->rids[0], "%s", r->rid ? r->rid : "(null)");
		l->deleted[l->n] = r->deleted;
		l->lens[l->n] = r->payload_len;
		l->nullpay[l->n] = r->payload == NULL;
	}
	l->n++;
	return l->stop_after && l->n >= l->stop_after;
}
#endif
