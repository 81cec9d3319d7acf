/*
 * admin.c: blindsync-admin, the operator's command-line tool (man page:
 * docs/man/blindsync-admin.8).
 *
 * The program is one table of subcommands, `cmds` below: each entry names
 * its words ("invite create"), its argument synopsis, a one-line summary, a
 * longer help text and the function that runs it. main() finds the entry
 * whose words begin argv, answers `--help` for it, and calls it with the
 * remaining arguments. A subcommand parses its own arguments first (a usage
 * error never touches the config or the store), then asks for the config
 * (admin_config) or the store (admin_store: config, migrations, open) and
 * releases nothing itself: main's admin_close() frees both. Adding a
 * subcommand is one function and one table row.
 *
 * Exit status: 0 done, 1 failed (one line on stderr, "blindsync-admin: "
 * first), 2 the command line was wrong (a usage line on stderr).
 *
 * Must never: write to the store outside store_tx() (the handlers' BEGIN
 * IMMEDIATE write lock, so a live store stays consistent); print an invite
 * code anywhere but stdout, once, or keep it after printing; print anything
 * on stdout that a script capturing it did not ask for.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "store.h"

#define PROG "blindsync-admin"

enum { ADMIN_OK = 0, ADMIN_FAIL = 1, ADMIN_USAGE = 2 };

#define CMD_WORDS_MAX 3          /* "sessions revoke NAME" has two words; room for three */
#define INVITE_BYTES 16          /* random bytes of an invite code */
#define INVITE_LEN 22            /* its base64url text, no padding */
#define INVITE_DAYS_DEFAULT 7
#define INVITE_DAYS_MAX 3650
#define DAY_SECONDS 86400

struct cmd;

/* What a subcommand works with; everything is released by admin_close(). */
struct admin {
	const struct cmd *cmd;   /* the subcommand running (for its usage line) */
	const char *config_path; /* NULL: built-in defaults */
	struct config *cfg;      /* loaded on demand by admin_config() */
	struct store *store;     /* opened on demand by admin_store() */
};

typedef int (*cmd_fn)(struct admin *a, int argc, char **argv);

/* One subcommand: `blindsync-admin WORDS ARGS`. */
struct cmd {
	const char *words[CMD_WORDS_MAX]; /* unused trailing entries are NULL */
	const char *args;                 /* synopsis of the arguments, "" if none */
	const char *summary;              /* one line, for the command list */
	const char *help;                 /* the details shown by `help CMD` */
	cmd_fn fn;
};

static int cmd_config_check(struct admin *a, int argc, char **argv);
static int cmd_invite_create(struct admin *a, int argc, char **argv);
static int cmd_invite_list(struct admin *a, int argc, char **argv);
static int cmd_user_list(struct admin *a, int argc, char **argv);
static int cmd_user_disable(struct admin *a, int argc, char **argv);
static int cmd_user_enable(struct admin *a, int argc, char **argv);
static int cmd_help(struct admin *a, int argc, char **argv);

static const struct cmd cmds[] = {
	{{"config", "check"}, "",
	    "check the configuration and print the effective values",
	    "Loads the configuration file ($BLINDSYNC_CONFIG, else the compiled-in\n"
	    "default path, else the built-in defaults). On success prints\n"
	    "\"config FILE: ok\" and then every effective value as Lua on stdout.\n"
	    "On error prints the file, line, key and reason on stderr and exits 1.\n",
	    cmd_config_check},
	{{"invite", "create"}, "[--expires DAYS]",
	    "make an invite code for one registration",
	    "Prints a new invite code, alone on one line of stdout, exactly once:\n"
	    "the store keeps only its SHA-256, so it cannot be shown again.\n"
	    "  --expires DAYS   days until it expires, 1 to 3650 (default 7)\n",
	    cmd_invite_create},
	{{"invite", "list"}, "",
	    "list the invites and their state",
	    "One line per invite, oldest first: id, created, expires (RFC 3339,\n"
	    "UTC) and state: unused, expired, or \"used by NAME at TIME\". Codes\n"
	    "are never shown (the store does not have them).\n",
	    cmd_invite_list},
	{{"user", "list"}, "",
	    "list the accounts",
	    "A header, then one line per account, by username: created (RFC 3339,\n"
	    "UTC), plan, bytes used, records, and enabled or disabled.\n",
	    cmd_user_list},
	{{"user", "disable"}, "NAME",
	    "stop an account: no login, no refresh, its tokens refused",
	    "Marks the account disabled. From the next request on, its access and\n"
	    "refresh tokens are refused (401) and login answers 403; its data is\n"
	    "kept. Undo with `user enable NAME`.\n",
	    cmd_user_disable},
	{{"user", "enable"}, "NAME",
	    "allow a disabled account again",
	    "Clears the disabled mark: the account can log in again, and its\n"
	    "sessions that have not expired work again.\n",
	    cmd_user_enable},
	{{"help"}, "[COMMAND]",
	    "show the commands, or the usage of one",
	    "Without COMMAND, lists every command; with one (e.g. `help invite\n"
	    "create`, or a group: `help user`), prints its usage and details.\n",
	    cmd_help},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

/* ---- messages ---- */

/* Print "blindsync-admin: MESSAGE" on stderr; returns ADMIN_FAIL. */
__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return ADMIN_FAIL;
}

/* The failure line for a store error `e` while doing `what`; ADMIN_FAIL. */
static int store_fail(enum err e, const char *what)
{
	if (e == ERR_UNAVAILABLE)
		return fail("%s: the store is busy or unavailable; try again", what);
	return fail("%s: %s", what, err_message(e));
}

/* Write the words of c separated by spaces to fp; returns the length. */
static int put_words(FILE *fp, const struct cmd *c)
{
	int n = 0;
	for (int i = 0; i < CMD_WORDS_MAX && c->words[i]; i++)
		n += fprintf(fp, "%s%s", i ? " " : "", c->words[i]);
	return n;
}

/* "usage: blindsync-admin WORDS ARGS" on fp. */
static void put_usage(FILE *fp, const struct cmd *c)
{
	fputs("usage: " PROG " ", fp);
	put_words(fp, c);
	fprintf(fp, "%s%s\n", c->args[0] ? " " : "", c->args);
}

/* The full help of one command: usage, summary and details, on fp. */
static void put_cmd_help(FILE *fp, const struct cmd *c)
{
	put_usage(fp, c);
	fprintf(fp, "\n%s.\n\n%s", c->summary, c->help);
}

/* The usage lines of every command whose first word is `group`, on fp. */
static void put_group(FILE *fp, const char *group)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].words[0], group) == 0)
			put_usage(fp, &cmds[i]);
}

/* The program's usage and the list of commands, on fp. */
static void put_main_usage(FILE *fp)
{
	fputs("usage: " PROG " COMMAND [ARGS...]\n"
	      "       " PROG " help COMMAND | " PROG " COMMAND --help\n"
	      "\ncommands:\n", fp);
	for (size_t i = 0; i < NCMDS; i++) {
		fputs("  ", fp);
		int n = put_words(fp, &cmds[i]);
		n += fprintf(fp, "%s%s", cmds[i].args[0] ? " " : "", cmds[i].args);
		fprintf(fp, "%*s%s\n", n < 34 ? 34 - n : 1, "", cmds[i].summary);
	}
	fputs("\nThe configuration comes from $BLINDSYNC_CONFIG (see blindsync.lua(5)).\n"
	      "Exit status: 0 done, 1 failed, 2 usage error. See blindsync-admin(8).\n", fp);
}

/* A wrong command line for a: the message and the usage line on stderr; ADMIN_USAGE. */
__attribute__((format(printf, 2, 3)))
static int usage_error(const struct admin *a, const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	put_usage(stderr, a->cmd);
	return ADMIN_USAGE;
}

/* ---- the command table ---- */

/*
 * The command whose words are the first words of argv[0..argc), or NULL.
 * *nwords is set to the number of words it took.
 */
static const struct cmd *cmd_find(int argc, char **argv, int *nwords)
{
	for (size_t i = 0; i < NCMDS; i++) {
		int n = 0;
		while (n < CMD_WORDS_MAX && cmds[i].words[n] && n < argc && strcmp(cmds[i].words[n], argv[n]) == 0)
			n++;
		if (n < CMD_WORDS_MAX && cmds[i].words[n])
			continue; /* a word is missing or differs */
		*nwords = n;
		return &cmds[i];
	}
	return NULL;
}

/* 1 if `word` is the first word of some command (a group such as "user"). */
static int cmd_is_group(const char *word)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].words[0], word) == 0)
			return 1;
	return 0;
}

/*
 * argv[0..argc) names no command: say so, with the usage of the group when
 * the first word is one, on stderr. Returns ADMIN_USAGE.
 */
static int unknown_command(int argc, char **argv)
{
	if (argc > 0 && cmd_is_group(argv[0])) {
		if (argc > 1)
			fprintf(stderr, PROG ": unknown %s command: %s\n", argv[0], argv[1]);
		else
			fprintf(stderr, PROG ": %s: a subcommand is needed\n", argv[0]);
		put_group(stderr, argv[0]);
		return ADMIN_USAGE;
	}
	if (argc > 0)
		fprintf(stderr, PROG ": unknown command: %s\n", argv[0]);
	fputs("usage: " PROG " COMMAND [ARGS...] (" PROG " --help lists the commands)\n", stderr);
	return ADMIN_USAGE;
}

/* 1 if the arguments ask for help: -h or --help before any "--". */
static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* ---- config and store, on demand ---- */

/*
 * Load the configuration into a->cfg (once). On failure prints the loader's
 * line ("FILE:LINE: KEY: reason") and returns -1.
 */
static int admin_config(struct admin *a)
{
	char err[1024];
	if (a->cfg)
		return 0;
	a->cfg = calloc(1, sizeof *a->cfg);
	if (!a->cfg) {
		fail("out of memory");
		return -1;
	}
	if (!a->config_path) {
		config_defaults(a->cfg);
	} else if (config_load(a->config_path, a->cfg, err, sizeof err) != 0) {
		fail("%s", err);
		free(a->cfg);
		a->cfg = NULL;
		return -1;
	}
	log_setup(PROG, a->cfg->log.level);
	return 0;
}

/*
 * The store of the configuration in a->store (once): migrations applied as
 * the handlers do, then opened in `mode`. Prints the reason and returns -1 on
 * failure.
 */
static int admin_store(struct admin *a, enum store_mode mode)
{
	char err[1024];
	if (a->store)
		return 0;
	if (admin_config(a) != 0)
		return -1;
	if (store_migrate(a->cfg->database, err, sizeof err) != 0 ||
	    store_open(a->cfg->database, mode, &a->store, err, sizeof err) != 0) {
		a->store = NULL;
		fail("%s", err);
		return -1;
	}
	return 0;
}

/* Release what admin_config and admin_store made. */
static void admin_close(struct admin *a)
{
	store_close(a->store);
	a->store = NULL;
	free(a->cfg);
	a->cfg = NULL;
}

/* ---- argument helpers ---- */

/* Parse s as a decimal integer in min..max into *out; 0, or -1 if it is not one. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	if (!*s || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* ---- config check ---- */

/*
 * config check: load the configuration; print "config FILE: ok" and the
 * effective values on stdout (ADMIN_OK), or the error on stderr (ADMIN_FAIL).
 */
static int cmd_config_check(struct admin *a, int argc, char **argv)
{
	if (argc > 0)
		return usage_error(a, "unexpected argument: %s", argv[0]);
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	printf("config %s: ok\n", a->config_path ? a->config_path : "(built-in defaults)");
	if (config_print(a->cfg, stdout) != 0)
		return fail("cannot write the configuration: %s", strerror(errno));
	return ADMIN_OK;
}

/* ---- invites ---- */

struct invite_new {
	uint8_t hash[CRYPTO_SHA256_LEN];
	int64_t now, expires_at;
};

/* store_tx body of invite create: insert the hash. */
static enum err invite_insert_tx(struct store *s, void *arg)
{
	const struct invite_new *x = arg;
	return store_invite_insert(s, x->hash, x->now, x->expires_at);
}

/*
 * invite create [--expires DAYS]: a new code of INVITE_BYTES random bytes,
 * base64url. Its SHA-256 (of the text, as the register handler hashes what
 * the client sends) is committed first; then the code alone is printed on
 * stdout. The code is wiped before returning.
 */
static int cmd_invite_create(struct admin *a, int argc, char **argv)
{
	long days = INVITE_DAYS_DEFAULT;
	uint8_t raw[INVITE_BYTES];
	char code[INVITE_LEN + 1];
	struct invite_new x;
	char when[21];
	int rc = ADMIN_FAIL;
	enum err e;

	for (int i = 0; i < argc; i++) {
		const char *v;
		if (strcmp(argv[i], "--expires") == 0) {
			if (i + 1 >= argc)
				return usage_error(a, "--expires needs a number of days");
			v = argv[++i];
		} else if (strncmp(argv[i], "--expires=", 10) == 0) {
			v = argv[i] + 10;
		} else {
			return usage_error(a, "unexpected argument: %s", argv[i]);
		}
		if (parse_long(v, 1, INVITE_DAYS_MAX, &days) != 0)
			return usage_error(a, "--expires takes 1 to %d days, not '%s'", INVITE_DAYS_MAX, v);
	}

	memset(&x, 0, sizeof x);
	memset(code, 0, sizeof code);
	if (admin_store(a, STORE_RW) != 0)
		goto out;
	if (crypto_random(raw, sizeof raw) != 0 ||
	    crypto_b64_encode(raw, sizeof raw, code, sizeof code, CRYPTO_B64_URL) != INVITE_LEN ||
	    crypto_sha256(code, INVITE_LEN, x.hash) != 0) {
		fail("cannot make a random code");
		goto out;
	}
	x.now = (int64_t)time(NULL);
	x.expires_at = x.now + (int64_t)days * DAY_SECONDS;
	if ((e = store_tx(a->store, invite_insert_tx, &x)) != ERR_OK) {
		store_fail(e, "cannot store the invite");
		goto out;
	}
	/* committed: only now may the code be shown */
	if (printf("%s\n", code) < 0 || fflush(stdout) != 0) {
		fail("cannot write the code (the invite is stored but unusable): %s", strerror(errno));
		goto out;
	}
	json_time(x.expires_at, when);
	fprintf(stderr, PROG ": invite created for one registration; it expires %s\n", when);
	rc = ADMIN_OK;
out:
	crypto_wipe(raw, sizeof raw);
	crypto_wipe(code, sizeof code);
	return rc;
}

struct invite_rows {
	int64_t now;
};

/* store_invite_list callback: one line per invite. */
static int invite_row(void *ctx, const struct store_invite *iv)
{
	const struct invite_rows *x = ctx;
	char created[21], expires[21], used[21];
	json_time(iv->created_at, created);
	json_time(iv->expires_at, expires);
	printf("%-6lld %-20s %-20s ", (long long)iv->id, created, expires);
	if (iv->used_at != 0) {
		json_time(iv->used_at, used);
		if (iv->used_by[0])
			printf("used by %s at %s\n", iv->used_by, used);
		else
			printf("used at %s (account deleted)\n", used);
	} else if (iv->expires_at <= x->now) {
		puts("expired");
	} else {
		puts("unused");
	}
	return ferror(stdout) ? 1 : 0;
}

/* invite list: a header, then one line per invite, oldest first. */
static int cmd_invite_list(struct admin *a, int argc, char **argv)
{
	struct invite_rows x = {(int64_t)time(NULL)};
	enum err e;
	if (argc > 0)
		return usage_error(a, "unexpected argument: %s", argv[0]);
	if (admin_store(a, STORE_RO) != 0)
		return ADMIN_FAIL;
	printf("%-6s %-20s %-20s %s\n", "ID", "CREATED", "EXPIRES", "STATE");
	if ((e = store_invite_list(a->store, invite_row, &x)) != ERR_OK)
		return store_fail(e, "cannot list the invites");
	return ADMIN_OK;
}

/* ---- users ---- */

/* store_account_list callback: one line per account. */
static int user_row(void *ctx, const struct store_account *acc)
{
	char created[21];
	json_time(acc->created_at, created);
	printf("%-24s %-20s %-12s %14lld %9lld %s\n", acc->username, created, acc->plan,
	    (long long)acc->usage_bytes, (long long)acc->usage_records, acc->disabled ? "disabled" : "enabled");
	return ferror(stdout) ? 1 : 0;
}

/* user list: a header, then one line per account, by username. */
static int cmd_user_list(struct admin *a, int argc, char **argv)
{
	enum err e;
	if (argc > 0)
		return usage_error(a, "unexpected argument: %s", argv[0]);
	if (admin_store(a, STORE_RO) != 0)
		return ADMIN_FAIL;
	printf("%-24s %-20s %-12s %14s %9s %s\n", "USERNAME", "CREATED", "PLAN", "BYTES", "RECORDS", "STATE");
	if ((e = store_account_list(a->store, user_row, NULL)) != ERR_OK)
		return store_fail(e, "cannot list the accounts");
	return ADMIN_OK;
}

struct user_mark {
	const char *username; /* valid, lowercased */
	int disabled;         /* the state to set */
	int was;              /* out: the state before */
};

/* store_tx body of user disable/enable: read the old state, set the new one. */
static enum err user_mark_tx(struct store *s, void *arg)
{
	struct user_mark *x = arg;
	struct store_account acc;
	enum err e = store_account_by_name(s, x->username, &acc);
	if (e != ERR_OK)
		return e;
	x->was = acc.disabled;
	if (acc.disabled == x->disabled)
		return ERR_OK;
	return store_account_set_disabled(s, x->username, x->disabled);
}

/*
 * user disable|enable NAME: set the account's disabled mark in one write
 * transaction. The handlers read the mark on every login, refresh and token
 * lookup, so nothing else needs to change. A confirmation goes to stderr.
 */
static int user_set_disabled(struct admin *a, int argc, char **argv, int disabled)
{
	char name[STORE_USERNAME_MAX + 1];
	struct user_mark x;
	enum err e;
	if (argc != 1)
		return usage_error(a, argc ? "one NAME only" : "NAME is missing");
	if (auth_username(argv[0], strlen(argv[0]), name) != 0)
		return usage_error(a, "not a valid username: %s", argv[0]);
	if (admin_store(a, STORE_RW) != 0)
		return ADMIN_FAIL;
	x.username = name;
	x.disabled = disabled;
	x.was = -1;
	e = store_tx(a->store, user_mark_tx, &x);
	if (e == ERR_NOT_FOUND)
		return fail("no such user: %s", name);
	if (e != ERR_OK)
		return store_fail(e, disabled ? "cannot disable the account" : "cannot enable the account");
	if (x.was == disabled)
		fprintf(stderr, PROG ": user %s was already %s\n", name, disabled ? "disabled" : "enabled");
	else
		fprintf(stderr, PROG ": user %s %s\n", name, disabled ? "disabled" : "enabled");
	return ADMIN_OK;
}

/* user disable NAME. */
static int cmd_user_disable(struct admin *a, int argc, char **argv)
{
	return user_set_disabled(a, argc, argv, 1);
}

/* user enable NAME. */
static int cmd_user_enable(struct admin *a, int argc, char **argv)
{
	return user_set_disabled(a, argc, argv, 0);
}

/* ---- help ---- */

/*
 * help [COMMAND]: the command list, the help of one command, or the usage
 * lines of a group, on stdout. An unknown COMMAND is a usage error.
 */
static int cmd_help(struct admin *a, int argc, char **argv)
{
	int n;
	if (argc == 0) {
		put_main_usage(stdout);
		return ADMIN_OK;
	}
	const struct cmd *c = cmd_find(argc, argv, &n);
	if (c && n == argc) {
		put_cmd_help(stdout, c);
		return ADMIN_OK;
	}
	if (argc == 1 && cmd_is_group(argv[0])) {
		put_group(stdout, argv[0]);
		return ADMIN_OK;
	}
	return unknown_command(argc, argv);
}

/* ---- main ---- */

/*
 * Dispatch argv to the command table. Global options: -h/--help (the command
 * list) and -V/--version. Returns the exit status; a failed write to stdout
 * turns success into ADMIN_FAIL.
 */
int main(int argc, char **argv)
{
	struct admin a;
	const struct cmd *c;
	int n, rc;

	memset(&a, 0, sizeof a);
	if (argc < 2) {
		put_main_usage(stderr);
		rc = ADMIN_USAGE;
		goto out;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		put_main_usage(stdout);
		rc = ADMIN_OK;
		goto out;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf(PROG " %s\n", BLINDSYNC_VERSION);
		rc = ADMIN_OK;
		goto out;
	}
	c = cmd_find(argc - 1, argv + 1, &n);
	if (!c) {
		rc = unknown_command(argc - 1, argv + 1);
		goto out;
	}
	if (wants_help(argc - 1 - n, argv + 1 + n)) {
		put_cmd_help(stdout, c);
		rc = ADMIN_OK;
		goto out;
	}
	a.cmd = c;
	a.config_path = config_path();
	rc = c->fn(&a, argc - 1 - n, argv + 1 + n);
out:
	admin_close(&a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (rc == ADMIN_OK)
			rc = fail("cannot write to stdout: %s", strerror(errno));
	}
	return rc;
}
