/*
 * test_accounts_mfa.c: two-factor login and the recovery key through the
 * core (fcgi/lib/accounts_mfa.c over store.h), on SQLite and, with
 * $BS_TEST_PG (pgtest.h), on PostgreSQL: TOTP begun, confirmed, required
 * at login, replay refused; recovery codes used once and renewed; the
 * wrong-code lockout; the recovery key's reset; and, with one store per
 * thread as the workers have, a TOTP code and a recovery code accepted
 * once out of 8 concurrent logins, and 8 concurrent wrong codes counted
 * exactly (5 invalid_mfa, then 429).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "log.h"
#include "mfa.h"
#include "store.h"

#include "t.h"
#include "pgtest.h"
#include "storetest.h"

#define THREADS 8

static struct config cfg;
static uint8_t server_secret[AUTH_SECRET_LEN];
static char location[1024];
static int nuser;

/* Decode RFC 4648 base32 (upper case, no padding) into out; the byte count. */
static size_t b32_decode(const char *s, uint8_t *out, size_t outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (; *s; s++) {
		const char *p = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *s);
		if (!p)
			return 0;
		acc = (acc << 5) | (uint32_t)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
		bits += 5;
		if (bits >= 8 && n < outlen) {
			out[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return n;
}

/* The TOTP code of raw secret k at now + offset seconds, into code (7 bytes). */
static void code_at(const uint8_t k[MFA_TOTP_SECRET_LEN], int offset, char code[8])
{
	uint32_t v = 0;
	T_EQ_INT(mfa_hotp(k, MFA_TOTP_SECRET_LEN, (uint64_t)mfa_totp_step((int64_t)time(NULL) + offset), &v), 0);
	snprintf(code, 8, "%06u", (unsigned)v);
}

struct user {
	char name[64];
	uint8_t key[32];
	struct auth a;
	uint8_t totp[MFA_TOTP_SECRET_LEN];
	struct accounts_codes codes;
};

static struct accounts_factor totp_factor(const char *code)
{
	struct accounts_factor f = {code, strlen(code), NULL, 0};
	return f;
}

static struct accounts_factor code_factor(const char *code)
{
	struct accounts_factor f = {NULL, 0, code, strlen(code)};
	return f;
}

/* A new account, logged in once (u->a its device), with TOTP on when `with_totp`. */
static void new_user(struct store *s, struct user *u, int with_totp)
{
	struct accounts_session sess;
	memset(u, 0, sizeof *u);
	snprintf(u->name, sizeof u->name, "mfa-%d-%d", (int)getpid(), ++nuser);
	memset(u->key, nuser, sizeof u->key); /* the key stt_register sends */
	stt_register(s, &cfg, u->name, (uint8_t)nuser, NULL);
	T_EQ_INT(accounts_login(s, &cfg, u->name, u->key, sizeof u->key, "t", "cli", &sess), ERR_OK);
	T_EQ_INT(auth_token_check(s, sess.access.text, strlen(sess.access.text), &u->a), ERR_OK);
	accounts_session_clear(&sess);
	if (!with_totp)
		return;
	struct accounts_totp_new t;
	int retry = 0;
	char c[8];
	T_EQ_INT(accounts_totp_begin(s, &cfg, server_secret, &u->a, u->key, sizeof u->key, &t), ERR_OK);
	T_EQ_INT(b32_decode(t.secret, u->totp, sizeof u->totp), MFA_TOTP_SECRET_LEN);
	code_at(u->totp, 0, c);
	struct accounts_factor f = totp_factor(c);
	T_EQ_INT(accounts_totp_confirm(s, &cfg, server_secret, &u->a, &f, &u->codes, &retry), ERR_OK);
}

static enum err login_with(struct store *s, const struct user *u, const struct accounts_factor *f, int *retry)
{
	struct accounts_session sess;
	enum err e = accounts_login_factor(s, &cfg, server_secret, u->name, u->key, sizeof u->key, "t", "cli", f, &sess);
	if (retry)
		*retry = sess.retry_after;
	accounts_session_clear(&sess);
	return e;
}

static void test_flow(void)
{
	struct store *s = stt_open(location);
	struct user u;
	struct store_mfa m;
	char c[8];
	int retry = 0;
	if (!s)
		return;
	new_user(s, &u, 1);
	T_EQ_INT(store_mfa_get(s, u.a.account_id, &m), ERR_OK);
	T_EQ_INT(m.totp_on, 1);
	T_EQ_INT(m.recovery_codes, MFA_CODES);
	T_EQ_INT(m.totp_sealed_len, MFA_SEALED_LEN);
	T_OK(memmem(m.totp_sealed, m.totp_sealed_len, u.totp, sizeof u.totp) == NULL);
	/* login: required, a wrong key first, then the next step's code once */
	T_EQ_INT(login_with(s, &u, NULL, NULL), ERR_MFA_REQUIRED);
	code_at(u.totp, 30, c);
	struct accounts_factor f = totp_factor(c);
	uint8_t wrong[32];
	memset(wrong, 0xee, sizeof wrong);
	struct accounts_session sess;
	T_EQ_INT(accounts_login_factor(s, &cfg, server_secret, u.name, wrong, sizeof wrong, "t", "cli", &f, &sess),
	    ERR_INVALID_CREDENTIALS);
	accounts_session_clear(&sess);
	T_EQ_INT(login_with(s, &u, &f, NULL), ERR_OK);
	T_EQ_INT(login_with(s, &u, &f, NULL), ERR_INVALID_MFA);
	/* a recovery code, once */
	struct accounts_factor r = code_factor(u.codes.code[0]);
	T_EQ_INT(login_with(s, &u, &r, NULL), ERR_OK);
	T_EQ_INT(login_with(s, &u, &r, NULL), ERR_INVALID_MFA);
	/* renew with a recovery code; the old set is gone */
	struct accounts_codes fresh;
	struct accounts_factor r1 = code_factor(u.codes.code[1]);
	T_EQ_INT(accounts_codes_renew(s, &cfg, server_secret, &u.a, u.key, sizeof u.key, &r1, &fresh, &retry), ERR_OK);
	struct accounts_factor r2 = code_factor(u.codes.code[2]);
	T_EQ_INT(login_with(s, &u, &r2, NULL), ERR_INVALID_MFA);
	struct accounts_factor n0 = code_factor(fresh.code[0]);
	T_EQ_INT(login_with(s, &u, &n0, NULL), ERR_OK);
	/* the count so far: 3 wrong, the right ones reset it */
	T_EQ_INT(store_mfa_get(s, u.a.account_id, &m), ERR_OK);
	T_EQ_INT(m.fails, 0);
	/* disable; then no code is asked */
	struct accounts_factor n1 = code_factor(fresh.code[1]);
	T_EQ_INT(accounts_totp_disable(s, &cfg, server_secret, &u.a, wrong, sizeof wrong, &n1, &retry),
	    ERR_INVALID_CREDENTIALS);
	T_EQ_INT(accounts_totp_disable(s, &cfg, server_secret, &u.a, u.key, sizeof u.key, &n1, &retry), ERR_OK);
	T_EQ_INT(accounts_totp_disable(s, &cfg, server_secret, &u.a, u.key, sizeof u.key, &n1, &retry), ERR_CONFLICT);
	T_EQ_INT(login_with(s, &u, NULL, NULL), ERR_OK);
	T_EQ_INT(store_mfa_get(s, u.a.account_id, &m), ERR_OK);
	T_EQ_INT(m.totp_on + (int)m.recovery_codes + (int)m.totp_sealed_len, 0);
	store_close(s);
}

static void test_lockout(void)
{
	struct store *s = stt_open(location);
	struct user u;
	char c[8], bad[8];
	int retry = 0;
	if (!s)
		return;
	new_user(s, &u, 1);
	code_at(u.totp, 30, c);
	snprintf(bad, sizeof bad, "%06d", (atoi(c) + 1) % 1000000);
	struct accounts_factor fb = totp_factor(bad), fc = totp_factor(c);
	for (int i = 0; i < MFA_FAILS_MAX; i++)
		T_EQ_INT(login_with(s, &u, &fb, NULL), ERR_INVALID_MFA);
	T_EQ_INT(login_with(s, &u, &fc, &retry), ERR_RATE_LIMITED);
	T_OK(retry > cfg.mfa.lockout_seconds - 10 && retry <= cfg.mfa.lockout_seconds);
	/* the lock runs out: a fresh count, and the right code works */
	struct store_mfa m;
	T_EQ_INT(store_mfa_get(s, u.a.account_id, &m), ERR_OK);
	m.locked_until = (int64_t)time(NULL) - 1;
	T_EQ_INT(store_mfa_set(s, u.a.account_id, &m), ERR_OK);
	T_EQ_INT(login_with(s, &u, &fc, NULL), ERR_OK);
	store_close(s);
}

static void test_recovery_key(void)
{
	struct store *s = stt_open(location);
	struct user u;
	uint8_t ra[32], wrong[32], *blob = NULL, nkey[32];
	size_t bloblen = 0;
	struct auth_token reset;
	int64_t failed = 0;
	if (!s)
		return;
	new_user(s, &u, 0);
	memset(ra, 0x51, sizeof ra);
	memset(wrong, 0x52, sizeof wrong);
	memset(nkey, 0x53, sizeof nkey);
	T_EQ_INT(accounts_recover(s, &cfg, u.name, ra, sizeof ra, &blob, &bloblen, &reset, &failed),
	    ERR_INVALID_CREDENTIALS);
	T_EQ_INT(failed, 0); /* no key set: nothing to record */
	T_EQ_INT(accounts_recovery_put(s, &cfg, &u.a, u.key, sizeof u.key, ra, sizeof ra, (const uint8_t *)"blob!", 5),
	    ERR_OK);
	T_EQ_INT(accounts_recover(s, &cfg, u.name, wrong, sizeof wrong, &blob, &bloblen, &reset, &failed),
	    ERR_INVALID_CREDENTIALS);
	T_EQ_INT(failed, u.a.account_id);
	T_EQ_INT(accounts_recover(s, &cfg, "nobody-here", ra, sizeof ra, &blob, &bloblen, &reset, &failed),
	    ERR_INVALID_CREDENTIALS);
	T_EQ_INT(failed, 0);
	T_EQ_INT(accounts_recover(s, &cfg, u.name, ra, sizeof ra, &blob, &bloblen, &reset, &failed), ERR_OK);
	T_OK(blob && bloblen == 5 && memcmp(blob, "blob!", 5) == 0);
	free(blob);
	struct accounts_recover_in in = {reset.text, strlen(reset.text), nkey, sizeof nkey,
	    "{\"alg\":\"pbkdf2-sha256\",\"iterations\":1000,\"salt\":\"BBBBBBBBBBBBBBBBBBBBBB==\"}",
	    (const uint8_t *)"new keyring", 11};
	T_EQ_INT(accounts_recover_complete(s, &cfg, &in), ERR_OK);
	T_EQ_INT(accounts_recover_complete(s, &cfg, &in), ERR_UNAUTHORIZED);
	struct accounts_session sess;
	T_EQ_INT(accounts_login(s, &cfg, u.name, u.key, sizeof u.key, "t", "cli", &sess), ERR_INVALID_CREDENTIALS);
	accounts_session_clear(&sess);
	T_EQ_INT(accounts_login(s, &cfg, u.name, nkey, sizeof nkey, "t", "cli", &sess), ERR_OK);
	T_OK(sess.keyring && sess.keyring_len == 11 && memcmp(sess.keyring, "new keyring", 11) == 0);
	accounts_session_clear(&sess);
	/* the old device is gone, and so is the used key */
	struct store_mfa m;
	T_EQ_INT(store_mfa_get(s, u.a.account_id, &m), ERR_OK);
	T_EQ_INT(m.recovery_key, 0);
	int64_t dev;
	T_EQ_INT(store_device_find(s, u.a.account_id, u.a.device_public_id, &dev), ERR_NOT_FOUND);
	store_close(s);
}

/* ---- concurrency: one store per thread, as the workers have ---- */

struct racer {
	const struct user *u;
	const struct accounts_factor *f;
	enum err result;
	pthread_barrier_t *go;
};

static void *race(void *arg)
{
	struct racer *x = arg;
	struct store *s = stt_open(location);
	pthread_barrier_wait(x->go);
	x->result = s ? login_with(s, x->u, x->f, NULL) : ERR_INTERNAL;
	store_close(s);
	return NULL;
}

/* Run the same login from THREADS threads at once; count[e] how many got e. */
static void race_logins(const struct user *u, const struct accounts_factor *f, int count[ERR__MAX])
{
	pthread_t th[THREADS];
	struct racer x[THREADS];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, THREADS);
	memset(count, 0, sizeof(int) * ERR__MAX);
	for (int i = 0; i < THREADS; i++) {
		x[i] = (struct racer){u, f, ERR_OK, &go};
		pthread_create(&th[i], NULL, race, &x[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		count[x[i].result]++;
	}
	pthread_barrier_destroy(&go);
}

static void test_concurrent(void)
{
	struct store *s = stt_open(location);
	struct user u;
	char c[8], bad[8];
	int count[ERR__MAX];
	if (!s)
		return;
	new_user(s, &u, 1);
	store_close(s);
	/* one TOTP code: accepted once (the first served: nothing is counted yet) */
	code_at(u.totp, 30, c);
	struct accounts_factor f = totp_factor(c);
	race_logins(&u, &f, count);
	T_EQ_INT(count[ERR_OK], 1);
	T_EQ_INT(count[ERR_INVALID_MFA], MFA_FAILS_MAX); /* the used code is wrong for the others ... */
	T_EQ_INT(count[ERR_RATE_LIMITED], THREADS - 1 - MFA_FAILS_MAX); /* ... and counts */
	/* the lock those wrong codes made: lifted by hand; then one recovery code: used once */
	s = stt_open(location);
	struct store_mfa m;
	T_EQ_INT(store_mfa_get(s, u.a.account_id, &m), ERR_OK);
	m.fails = 0;
	m.locked_until = 0;
	T_EQ_INT(store_mfa_set(s, u.a.account_id, &m), ERR_OK);
	store_close(s);
	struct accounts_factor r = code_factor(u.codes.code[0]);
	race_logins(&u, &r, count);
	T_EQ_INT(count[ERR_OK], 1);
	T_EQ_INT(count[ERR_INVALID_MFA], MFA_FAILS_MAX); /* the used code is wrong for the others ... */
	T_EQ_INT(count[ERR_RATE_LIMITED], THREADS - 1 - MFA_FAILS_MAX); /* ... and counts */
	/* 8 wrong codes at once on a fresh account: exactly 5 counted, the rest locked out */
	s = stt_open(location);
	new_user(s, &u, 1);
	store_close(s);
	code_at(u.totp, 30, c);
	snprintf(bad, sizeof bad, "%06d", (atoi(c) + 1) % 1000000);
	struct accounts_factor fb = totp_factor(bad);
	race_logins(&u, &fb, count);
	T_EQ_INT(count[ERR_INVALID_MFA], MFA_FAILS_MAX);
	T_EQ_INT(count[ERR_RATE_LIMITED], THREADS - MFA_FAILS_MAX);
}

static void run_all(void)
{
	T_RUN(test_flow);
	T_RUN(test_lockout);
	T_RUN(test_recovery_key);
	T_RUN(test_concurrent);
}

int main(void)
{
	char tmpdir[256], err[512];
	log_setup("test_accounts_mfa", LOG_ERROR);
	config_defaults(&cfg);
	cfg.password_hash.iterations = 1000;
	memset(server_secret, 0x5a, sizeof server_secret);
	if (t_tmpdir(tmpdir, sizeof tmpdir, "mfa") != 0)
		return 1;
	snprintf(location, sizeof location, "%s/bs.db", tmpdir);
	if (store_migrate(location, err, sizeof err) != 0) {
		fprintf(stderr, "store_migrate: %s\n", err);
		return 1;
	}
	run_all();
	if (pgt_setup("test_accounts_mfa") > 0) {
		pgt_new_uri(location, sizeof location);
		if (store_migrate(location, err, sizeof err) != 0) {
			fprintf(stderr, "store_migrate: %s\n", err);
			T_OK(0);
		} else {
			run_all();
		}
		pgt_teardown();
	}
	t_tmpdir_remove(tmpdir);
	return t_done();
}
