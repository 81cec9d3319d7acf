/*
 * fuzz_account.c: fuzz target for whole requests through the real account
 * handler: fcgi/account.c's own route table (register, prelogin, login,
 * refresh, logout, the account, devices, keyring, password, activity,
 * export, import, TOTP, recovery codes, the recovery key) behind serve_one() and the dispatcher, with a real store.
 *
 * fcgi/account.c is compiled into this target (its main() renamed), so the
 * rows fuzzed are exactly the ones the program serves, whatever shape the
 * route table takes. The input format and the invariants of every response
 * are request.h's; "auth:T" sends the access token of an account this
 * target registered and logged in through the same handler, so the bearer
 * routes are reached too. When an input may have ended that session (a
 * logout, password change, device removal or account deletion that
 * answered 2xx), the next "auth:T" input gets a new account first.
 *
 * Once per process: a config in a new temporary directory (store, secret,
 * fast password hashing, no rate limits, registration open), the
 * migrations, the handler's init(). The store then grows across inputs,
 * which is what a long-lived worker sees too. Logging is cut to errors.
 *
 * Must never: touch a file outside its temporary directory.
 */
#include <sys/stat.h>

#include <dirent.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* the handler program itself, its main() renamed */
int account_main(int argc, char **argv);
#define main account_main
#include "../../fcgi/account.c"
#undef main

#include "log.h"
#include "request.h"

static struct store *fuzz_store;
static char fuzz_token[128];
static int fuzz_session_stale = 1;
static unsigned fuzz_accounts;

/* Run one built request (method, uri, JSON body) through the handler; its
 * body into out (at most outlen bytes, NUL-terminated). Returns the status. */
static int internal(const char *method, const char *uri, const char *json, char *out, size_t outlen)
{
	char in[1024];
	char *resp = NULL;
	size_t resp_len = 0;
	FILE *rf = NULL, *save_in = stdin, *save_out = stdout, *bf = NULL;
	struct req r;
	int n, status = 0;
	const char *b;

	n = snprintf(in, sizeof in, "%s\n%s\napplication/json\n\n%s", method, uri, json);
	if (n < 0 || (size_t)n >= sizeof in)
		abort();
	/* the same environment as a fuzzed input, without its checks */
	(void)set_request((const uint8_t *)in, (size_t)n, &(struct span){0}, NULL);
	bf = fmemopen((void *)json, strlen(json), "r");
	rf = open_memstream(&resp, &resp_len);
	if (bf == NULL || rf == NULL)
		abort();
	fflush(stdout);
	stdin = bf;
	stdout = rf;
	http_req_init(&r, NULL);
	r.store = fuzz_store;
	serve_one(&r, &handler);
	http_req_free(&r);
	stdin = save_in;
	stdout = save_out;
	fclose(bf);
	fclose(rf);
	if (resp_len > 11)
		status = atoi(resp + 8);
	out[0] = '\0';
	if ((b = strstr(resp, "\r\n\r\n")) != NULL)
		snprintf(out, outlen, "%s", b + 4);
	free(resp);
	return status;
}

/* Register and log in a new account; its access token into fuzz_token. */
static void new_session(void)
{
	static const char key[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	char body[512], out[2048], user[64];
	struct json_object *o = NULL, *t = NULL;
	char msg[ERR_MSG_MAX];
	int st;

	snprintf(user, sizeof user, "fuzz%u-%ld", ++fuzz_accounts, (long)getpid());
	snprintf(body, sizeof body,
	    "{\"username\":\"%s\",\"auth_key\":\"%s\",\"kdf\":{\"alg\":\"pbkdf2-sha256\",\"iterations\":1}}",
	    user, key);
	if ((st = internal("POST", "/v1/account/register", body, out, sizeof out)) != 201) {
		fprintf(stderr, "fuzz_account: register: %d %s\n", st, out);
		abort();
	}
	snprintf(body, sizeof body,
	    "{\"username\":\"%s\",\"auth_key\":\"%s\",\"device\":{\"name\":\"fuzz\",\"type\":\"cli\"}}", user, key);
	if ((st = internal("POST", "/v1/account/login", body, out, sizeof out)) != 200 ||
	    json_parse(out, strlen(out), &o, msg) != ERR_OK || !json_object_object_get_ex(o, "access_token", &t)) {
		fprintf(stderr, "fuzz_account: login: %d %s\n", st, out);
		abort();
	}
	snprintf(fuzz_token, sizeof fuzz_token, "%s", json_object_get_string(t));
	json_object_put(o);
	fuzz_session_stale = 0;
}

/* the store's directory, emptied and removed at exit: a run leaves nothing in /tmp */
static char fuzz_dir[] = "/tmp/blindsync-fuzz-account.XXXXXX";

static void fuzz_cleanup(void)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(fuzz_dir);
}

static void fuzz_init(void)
{
	static int ready;
	char *dir = fuzz_dir, path[256], db[256], err[512];
	const struct config *c;
	FILE *fp;

	if (ready)
		return;
	if (mkdtemp(dir) == NULL || atexit(fuzz_cleanup) != 0)
		abort();
	snprintf(path, sizeof path, "%s/blindsync.lua", dir);
	snprintf(db, sizeof db, "%s/blindsync.db", dir);
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fprintf(fp, "database = \"%s\"\nsecret_file = \"%s/secret\"\npassword_hash = { iterations = 1000 }\n"
	    "rate_limits = {}\nlog = { level = \"error\" }\n", db, dir);
	fclose(fp);
	unsetenv("BLINDSYNC_CONFIG");
	log_set_level(LOG_ERROR);
	if (config_init(path, err, sizeof err) != 0 || store_migrate(db, err, sizeof err) != 0 ||
	    store_open(db, STORE_RW, &fuzz_store, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_account: %s\n", err);
		abort();
	}
	c = config_acquire();
	if (handler.init(c, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_account: init: %s\n", err);
		abort();
	}
	config_release(c);
	ready = 1;
}

/* 1 if the input's first line and path name a route that can end the session. */
static int may_end_session(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {"/account/logout", "/account/password", "/account/devices/"};
	size_t i;

	if (size >= 7 && memcmp(data, "DELETE\n", 7) == 0)
		return 1;
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (memmem(data, size < 256 ? size : 256, paths[i], strlen(paths[i])) != NULL)
			return 1;
	return 0;
}

/* FUZZ_ACCOUNT_TRACE set: print the input's method and path with its status. */
static void trace(const uint8_t *data, size_t size, int status)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t n = lf != NULL ? (size_t)(lf - data) : size;

	if (lf != NULL && (lf = memchr(lf + 1, '\n', size - n - 1)) != NULL)
		n = (size_t)(lf - data);
	fprintf(stderr, "fuzz_account: %.*s -> %d\n", (int)(n < 200 ? n : 200), (const char *)data, status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int status;

	fuzz_init();
	if (fuzz_session_stale && memmem(data, size, "\nauth:T\n", 8) != NULL)
		new_session();
	fuzz_request_run(data, size, &handler, fuzz_store, fuzz_token, &status);
	if (getenv("FUZZ_ACCOUNT_TRACE") != NULL) /* which answers a corpus gets */
		trace(data, size, status);
	if (status >= 200 && status < 300 && may_end_session(data, size))
		fuzz_session_stale = 1;
	return 0;
}
