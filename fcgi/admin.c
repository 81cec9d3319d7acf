/*
 * admin.c: blindsync-admin, the operator's command-line tool (man page:
 * docs/man/blindsync-admin.8).
 *
 * The program is one table of subcommands, `cmds` below: each entry names
 * its words ("invite create"), its argument synopsis, a one-line summary, a
 * longer help text and the function that runs it. main() finds the entry
 * whose words begin argv, answers `--help` for it, and calls it with the
 * remaining arguments. A subcommand parses its own arguments first (a usage
 * error never touches the config or the store; operands() checks the count),
 * then asks for the config (admin_config) or the store (admin_store: config,
 * migrations, open) and runs its transaction through admin_tx (user_tx for a
 * command on one account), which prints the failure. It releases nothing
 * itself: main's admin_close() frees both. Adding a subcommand is one
 * function and one table row.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "auth.h"
#include "config.h"
#include "bsc.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "move.h"
#include "share.h"
#include "store.h"
#include "store_sqlite.h"
#include "sync.h"

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
static int cmd_user_quota(struct admin *a, int argc, char **argv);
static int cmd_user_plan(struct admin *a, int argc, char **argv);
static int cmd_check(struct admin *a, int argc, char **argv);
static int cmd_purge(struct admin *a, int argc, char **argv);
static int cmd_help(struct admin *a, int argc, char **argv);
static int cmd_init(struct admin *a, int argc, char **argv);
static int cmd_migrate(struct admin *a, int argc, char **argv);
static int cmd_user_show(struct admin *a, int argc, char **argv);
static int cmd_user_delete(struct admin *a, int argc, char **argv);
static int cmd_invite_revoke(struct admin *a, int argc, char **argv);
static int cmd_sessions_revoke(struct admin *a, int argc, char **argv);
static int cmd_user_mfa_off(struct admin *a, int argc, char **argv);
static int cmd_stats(struct admin *a, int argc, char **argv);
static int cmd_backup(struct admin *a, int argc, char **argv);
static int cmd_restore(struct admin *a, int argc, char **argv);
static int cmd_migrate_store(struct admin *a, int argc, char **argv);

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
	{{"user", "mfa-off"}, "NAME",
	    "turn an account's two-factor login off (lost authenticator and codes)",
	    "For an owner who lost both the authenticator and the recovery codes\n"
	    "(check who asks first: this removes the second factor). Removes the\n"
	    "TOTP secret, its failure lock and the recovery codes; the account then\n"
	    "logs in with its password alone and can turn TOTP on again. Logged as\n"
	    "an mfa_disabled_by_admin event in the account's activity log. Sessions\n"
	    "and the recovery key are kept. An account without two-factor login is\n"
	    "left as it is (a note on stderr, exit 0).\n",
	    cmd_user_mfa_off},
	{{"user", "quota"}, "NAME BYTES|none",
	    "set the account's own byte quota, or go back to its plan's",
	    "Gives the account a byte quota of its own in place of its plan's: a\n"
	    "push that would take its usage over it answers 507. BYTES is a whole\n"
	    "number of bytes, or of KiB, MiB or GiB with the suffix K, M or G\n"
	    "(e.g. 512M); `none` removes the override and the plan's quota applies\n"
	    "again. Data already stored is never removed; a warning says when the\n"
	    "account is over its new quota. Bumps the account's version.\n",
	    cmd_user_quota},
	{{"user", "plan"}, "NAME PLAN",
	    "put the account on another plan of the configuration",
	    "Assigns PLAN, a plan of the configuration's `plans` table, to the\n"
	    "account: its quota, collection count and history depth follow from the\n"
	    "next request (a quota set with `user quota` still overrides the plan's\n"
	    "bytes). Exits 1 with the configured plans if there is no such plan.\n"
	    "Warns when the account already exceeds the new plan. Bumps the\n"
	    "account's version.\n",
	    cmd_user_plan},
	{{"check"}, "[--repair]",
	    "check the store's integrity and recount its counters",
	    "Runs SQLite's integrity check and prints its answer (on PostgreSQL it\n"
	    "says that it is not run: the server checks its own pages), then recounts\n"
	    "every collection (records that are not tombstones, payload bytes of\n"
	    "its records and history, highest version) and every account (the sums\n"
	    "of its collections, plus its backups' bytes) from the data, and prints\n"
	    "each stored counter that differs: account, collection, field, stored\n"
	    "and actual value. Prints \"check: ok (N accounts, M collections)\" when\n"
	    "all agree; exits 1 on an integrity error or any difference.\n"
	    "  --repair   set the differing counters to the recounted values in one\n"
	    "             write transaction (and bump the versions of the accounts\n"
	    "             repaired), print what was fixed and exit 0. A store that\n"
	    "             fails the integrity check is not repaired.\n",
	    cmd_check},
	{{"purge"}, "",
	    "delete expired tokens, invites, invitations, old tombstones, events and slots",
	    "Deletes what is no longer needed, in batches of one short write\n"
	    "transaction each (the handlers' writes wait at most one batch):\n"
	    "  - tokens past their expiry (used refresh tokens included);\n"
	    "  - invites that expired unused (used ones are kept);\n"
	    "  - sharing invitations that expired, each as a withdrawal: the\n"
	    "    collection's membership version moves, and it is due a key rotation\n"
	    "    when the invitation carried its current key version;\n"
	    "  - tombstones not modified for tombstones.keep_days days, with the\n"
	    "    history of their records; the counters give the bytes back and the\n"
	    "    collection's purged_version rises, so a client pulling from an older\n"
	    "    version is told to pull again from 0 (410 resync_required);\n"
	    "  - activity events older than 365 days;\n"
	    "  - anonymous slots neither read nor written for slots.expire_days.\n"
	    "Prints one line on stdout with what it removed of each kind.\n",
	    cmd_purge},
	{{"init"}, "",
	    "create the store and the server secret if they are missing",
	    "Creates the store of the configuration (applying every migration) and\n"
	    "the server secret (secret_file, 32 random bytes, mode 0600) when they do\n"
	    "not exist yet, and prints what it did for each on stdout. Running it\n"
	    "again changes nothing and says so.\n",
	    cmd_init},
	{{"migrate"}, "",
	    "apply the pending migrations of the store",
	    "Applies the migrations the store has not had yet (every command using\n"
	    "the store does so too) and prints \"migrate: schema version A -> B\"\n"
	    "(A is 0 for a new store). Exits 1 if the store is newer than this\n"
	    "program.\n",
	    cmd_migrate},
	{{"user", "show"}, "NAME",
	    "show one account in detail",
	    "Prints one \"key: value\" line per field: username, account id,\n"
	    "created, plan, quota (its own or its plan's), usage bytes and records,\n"
	    "collections, backups, devices, disabled and keyring version.\n",
	    cmd_user_show},
	{{"user", "delete"}, "NAME [--yes]",
	    "delete an account and everything it owns",
	    "Deletes the account with its devices, tokens, collections, records,\n"
	    "history, backups and events, in one write transaction. This cannot be\n"
	    "undone: without --yes it only says what it would delete and exits 1.\n",
	    cmd_user_delete},
	{{"invite", "revoke"}, "ID",
	    "delete an unused invite",
	    "Deletes the unused invite ID (the first column of `invite list`), so\n"
	    "that its code no longer registers anyone. Exits 1 if there is no such\n"
	    "invite or it was used already.\n",
	    cmd_invite_revoke},
	{{"sessions", "revoke"}, "NAME",
	    "log an account out everywhere: delete its tokens and devices",
	    "Deletes every access and refresh token of the account and its devices:\n"
	    "its tokens are refused (401) from the next request on; it can log in\n"
	    "again. Prints how many tokens and devices were removed.\n",
	    cmd_sessions_revoke},
	{{"stats"}, "",
	    "print totals of the store and the largest accounts",
	    "Prints accounts, collections, records, bytes, backups, slots and the\n"
	    "size of the store file with its WAL, one \"key: value\" line each, then\n"
	    "the 5 accounts that store the most bytes.\n",
	    cmd_stats},
	{{"backup"}, "FILE",
	    "copy the live store into a new file, consistently",
	    "Copies the store into FILE with SQLite's online backup API, from one\n"
	    "read snapshot (the handlers keep writing meanwhile; every write\n"
	    "committed before the copy began is in it), 256 pages at a time. FILE\n"
	    "must not exist; the copy is one self-contained file. Then runs the\n"
	    "integrity check on the copy and prints its answer; exits 1 unless ok.\n"
	    "SQLite only: on PostgreSQL it exits 1 and points to pg_dump(1).\n",
	    cmd_backup},
	{{"restore"}, "FILE [--force]",
	    "replace the store's content with a backup",
	    "Checks that FILE is a blindsync store (its meta table), passes the\n"
	    "integrity check and has a schema no newer than this program's; then\n"
	    "copies it over the store with SQLite's backup API in one write\n"
	    "transaction (readers see the old or the new content, never a mix) and\n"
	    "applies the pending migrations. Refuses while another process has the\n"
	    "store open (it holds SQLite's shared lock on the store's -shm file):\n"
	    "stop the handlers first, or give --force to restore under them.\n"
	    "SQLite only: on PostgreSQL it exits 1 and points to pg_restore(1).\n",
	    cmd_restore},
	{{"migrate-store"}, "--to URI|FILE [--force]",
	    "copy the whole store into an empty PostgreSQL database, or into a new SQLite file",
	    "Copies every row of the configuration's store into the store at the\n"
	    "target: a postgresql:// URI of an empty database (its schema is created\n"
	    "when missing), or the path of a new SQLite file (from a store on\n"
	    "PostgreSQL, or another SQLite file). Accounts, devices, tokens,\n"
	    "invites, events, collections, records with their history and\n"
	    "tombstones, backups, slots, two-factor settings, recovery codes and\n"
	    "recovery keys keep their ids, versions and times, so\n"
	    "clients go on with their sessions after the move, without logging in\n"
	    "again. The source is read from one snapshot and the target written in\n"
	    "one transaction (a failed copy leaves it empty); blobs go chunk by\n"
	    "chunk. Then every table is read back from the target and its row\n"
	    "count and SHA-256 digest (every value, and every blob's data) compared\n"
	    "with the source's, and `check` runs on the target. Progress goes to\n"
	    "stderr; the result to stdout. Then point `database` at the target and\n"
	    "restart the handlers. Refuses a target that holds any row, and, for an\n"
	    "SQLite source, a store another process has open (stop the handlers:\n"
	    "writes after the copy began would not move), unless --force.\n"
	    "A URI must not hold a password: use a password file (PGPASSFILE).\n",
	    cmd_migrate_store},
	{{"help"}, "[COMMAND]",
	    "show the commands, or the usage of one",
	    "Without COMMAND, lists every command; with one (e.g. `help invite\n"
	    "create`, or a group: `help user`), prints its usage and details.\n",
	    cmd_help},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

/* ---- messages ---- */

/* "blindsync-admin: MESSAGE" and a newline on stderr, MESSAGE from fmt and ap. */
__attribute__((format(printf, 1, 0)))
static void put_message(const char *fmt, va_list ap)
{
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Print "blindsync-admin: MESSAGE" on stderr; returns ADMIN_FAIL. */
__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_message(fmt, ap);
	va_end(ap);
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
	va_start(ap, fmt);
	put_message(fmt, ap);
	va_end(ap);
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

/* A transaction body, as store_tx and store_read take it. */
typedef enum err (*tx_fn)(struct store *s, void *arg);

/*
 * Open the store in `mode` (admin_store) and run fn(store, arg) in one
 * transaction of it: a write transaction (store_tx) in STORE_RW, one read
 * snapshot (store_read) in STORE_RO. ADMIN_OK, or ADMIN_FAIL with one line
 * on stderr: why the store did not open; "no such user: USER" if fn answers
 * ERR_NOT_FOUND and user is not NULL; else "WHAT: reason" (store_fail).
 */
static int admin_tx(struct admin *a, enum store_mode mode, tx_fn fn, void *arg, const char *user, const char *what)
{
	if (admin_store(a, mode) != 0)
		return ADMIN_FAIL;
	enum err e = mode == STORE_RW ? store_tx(a->store, fn, arg) : store_read(a->store, fn, arg);
	if (e == ERR_NOT_FOUND && user)
		return fail("no such user: %s", user);
	return e == ERR_OK ? ADMIN_OK : store_fail(e, what);
}

/*
 * After a committed change that ends the account's sessions (disable,
 * delete, sessions revoke): bump the account's slot of the shared
 * notification table, as the handlers do, so that blindsync-live closes its
 * sockets within a second. Best effort: without the table (no handler ever
 * ran) there is nobody to tell.
 */
static void admin_poke(struct admin *a, int64_t account_id)
{
	char path[STORE_LOCATION_MAX + 16], why[256];
	struct notifier *n = NULL;
	if (!a->cfg || store_location_side(a->cfg->database, "notify", path, sizeof path) != 0)
		return;
	struct stat st;
	if (stat(path, &st) != 0 || notify_open(path, &n, why, sizeof why) != 0)
		return;
	notify_bump(n, notify_slot_account(account_id));
	notify_close(n);
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

/* A usage error for an argument the command does not take; ADMIN_USAGE. */
static int unexpected(struct admin *a, const char *arg)
{
	return usage_error(a, "unexpected argument: %s", arg);
}

/* The operand names of a command, for operands(): OPERANDS("NAME", "PLAN"). */
#define OPERANDS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* The same for a command that takes no arguments. */
#define NO_OPERANDS ((const char *const[]){NULL})

/*
 * Check the count of the arguments of a command without options: one for
 * each of `names` (NULL-terminated), and no more. ADMIN_OK, or a usage
 * error (ADMIN_USAGE) naming the first one missing ("NAME is missing") or
 * the first argument too many.
 */
static int operands(struct admin *a, int argc, char **argv, const char *const names[])
{
	int n;
	for (n = 0; names[n]; n++)
		if (n >= argc)
			return usage_error(a, "%s is missing", names[n]);
	return argc > n ? unexpected(a, argv[n]) : ADMIN_OK;
}

/* s, the NAME of a user command, lowercased into name; ADMIN_OK or a usage error. */
static int user_name(struct admin *a, const char *s, char name[STORE_USERNAME_MAX + 1])
{
	if (auth_username(s, strlen(s), name) != 0)
		return usage_error(a, "not a valid username: %s", s);
	return ADMIN_OK;
}

/* ---- config check ---- */

/*
 * config check: load the configuration; print "config FILE: ok" and the
 * effective values on stdout (ADMIN_OK), or the error on stderr (ADMIN_FAIL).
 */
static int cmd_config_check(struct admin *a, int argc, char **argv)
{
	if (operands(a, argc, argv, NO_OPERANDS) != ADMIN_OK)
		return ADMIN_USAGE;
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	printf("config %s: ok\n", a->config_path ? a->config_path : "(built-in defaults)");
	if (config_print(a->cfg, stdout) != 0)
		return fail("cannot write the configuration: %s", strerror(errno));
	return ADMIN_OK;
}

/* ---- invites ---- */

struct invite_new {
	uint8_t hash[BSC_SHA256_LEN];
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

	for (int i = 0; i < argc; i++) {
		const char *v;
		if (strcmp(argv[i], "--expires") == 0) {
			if (i + 1 >= argc)
				return usage_error(a, "--expires needs a number of days");
			v = argv[++i];
		} else if (strncmp(argv[i], "--expires=", 10) == 0) {
			v = argv[i] + 10;
		} else {
			return unexpected(a, argv[i]);
		}
		if (parse_long(v, 1, INVITE_DAYS_MAX, &days) != 0)
			return usage_error(a, "--expires takes 1 to %d days, not '%s'", INVITE_DAYS_MAX, v);
	}

	memset(&x, 0, sizeof x);
	memset(code, 0, sizeof code);
	if (admin_store(a, STORE_RW) != 0)
		goto out;
	if (bsc_random(raw, sizeof raw) != 0 ||
	    bsc_b64_encode(raw, sizeof raw, code, sizeof code, BSC_B64_URL) != INVITE_LEN ||
	    bsc_sha256(code, INVITE_LEN, x.hash) != 0) {
		fail("cannot make a random code");
		goto out;
	}
	x.now = (int64_t)time(NULL);
	x.expires_at = x.now + (int64_t)days * DAY_SECONDS;
	if (admin_tx(a, STORE_RW, invite_insert_tx, &x, NULL, "cannot store the invite") != ADMIN_OK)
		goto out;
	/* committed: only now may the code be shown */
	if (printf("%s\n", code) < 0 || fflush(stdout) != 0) {
		fail("cannot write the code (the invite is stored but unusable): %s", strerror(errno));
		goto out;
	}
	json_time(x.expires_at, when);
	fprintf(stderr, PROG ": invite created for one registration; it expires %s\n", when);
	rc = ADMIN_OK;
out:
	bsc_wipe(raw, sizeof raw);
	bsc_wipe(code, sizeof code);
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
	if (operands(a, argc, argv, NO_OPERANDS) != ADMIN_OK)
		return ADMIN_USAGE;
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
	if (operands(a, argc, argv, NO_OPERANDS) != ADMIN_OK)
		return ADMIN_USAGE;
	if (admin_store(a, STORE_RO) != 0)
		return ADMIN_FAIL;
	printf("%-24s %-20s %-12s %14s %9s %s\n", "USERNAME", "CREATED", "PLAN", "BYTES", "RECORDS", "STATE");
	if ((e = store_account_list(a->store, user_row, NULL)) != ERR_OK)
		return store_fail(e, "cannot list the accounts");
	return ADMIN_OK;
}

/*
 * One transaction of a command on one account (user show, disable, enable,
 * quota, plan, delete, sessions revoke): the account is looked up by name,
 * then the command's step runs on it. Each command uses the fields it needs.
 */
struct user_op {
	const char *username;      /* valid, lowercased */
	enum err (*step)(struct store *s, struct user_op *x); /* after the lookup */
	struct store_account acc;  /* out: the account as the transaction found it */
	int disabled;              /* user disable/enable: the state to set */
	int64_t quota;             /* user quota: bytes, -1 for none */
	const char *plan;          /* user plan: a plan of the config */
	int changed;               /* out (quota, plan): 1 if something was written */
	int64_t collections;       /* out (show, plan): the account's collections */
	int64_t backups;           /* out (show): its backups */
	int64_t devices, tokens;   /* out: show counts devices; sessions revoke, both removed */
	int mfa_was_on;            /* out (mfa-off): the account had two-factor login */
};

/* store_tx or store_read body of every user_op: the lookup, then its step. */
static enum err user_op_tx(struct store *s, void *arg)
{
	struct user_op *x = arg;
	enum err e = store_account_by_name(s, x->username, &x->acc);
	return e ? e : x->step(s, x);
}

/*
 * Run x in one transaction (a write one in STORE_RW) of the store opened in
 * mode. ADMIN_OK, or ADMIN_FAIL with "no such user: NAME" or "WHAT: reason"
 * on stderr.
 */
static int user_tx(struct admin *a, enum store_mode mode, struct user_op *x, const char *what)
{
	return admin_tx(a, mode, user_op_tx, x, x->username, what);
}

/* user_op step of user disable/enable: set the new state if it differs. */
static enum err user_mark_step(struct store *s, struct user_op *x)
{
	if (x->acc.disabled == x->disabled)
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
	struct user_op x = {.username = name, .step = user_mark_step, .disabled = disabled};
	if (argc != 1)
		return usage_error(a, argc ? "one NAME only" : "NAME is missing");
	if (user_name(a, argv[0], name) != ADMIN_OK)
		return ADMIN_USAGE;
	if (user_tx(a, STORE_RW, &x, disabled ? "cannot disable the account" : "cannot enable the account") != ADMIN_OK)
		return ADMIN_FAIL;
	if (x.acc.disabled == disabled) {
		fprintf(stderr, PROG ": user %s was already %s\n", name, disabled ? "disabled" : "enabled");
	} else {
		admin_poke(a, x.acc.id);
		fprintf(stderr, PROG ": user %s %s\n", name, disabled ? "disabled" : "enabled");
	}
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

/* ---- user quota and user plan ---- */

/*
 * Parse BYTES of `user quota`: a whole number of bytes, or of KiB, MiB or
 * GiB with the suffix K, M or G (either case), within int64_t. 0 and *out,
 * or -1 if s is not one.
 */
static int parse_bytes(const char *s, int64_t *out)
{
	int64_t v = 0, mult = 1;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0': break;
	case 'K': case 'k': mult = (int64_t)1 << 10; p++; break;
	case 'M': case 'm': mult = (int64_t)1 << 20; p++; break;
	case 'G': case 'g': mult = (int64_t)1 << 30; p++; break;
	default: return -1;
	}
	if (*p || v > INT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/*
 * The byte quota that applies to acc as text in buf: "N bytes, set for the
 * account" or "N bytes, plan P". Returns buf.
 */
static const char *quota_text(const struct config *c, const struct store_account *acc, char *buf, size_t len)
{
	if (acc->quota_bytes >= 0)
		snprintf(buf, len, "%lld bytes, set for the account", (long long)acc->quota_bytes);
	else
		snprintf(buf, len, "%lld bytes, plan %s", (long long)sync_quota(c, acc), sync_plan(c, acc)->name);
	return buf;
}

/* Warn on stderr when acc (as it is now) stores more than its quota allows. */
static void warn_over_quota(const struct config *c, const struct store_account *acc)
{
	int64_t q = sync_quota(c, acc);
	if (acc->usage_bytes > q)
		fprintf(stderr, PROG ": warning: user %s stores %lld bytes, more than its quota of %lld: "
		    "pushes that add bytes are refused (507) until it frees space\n",
		    acc->username, (long long)acc->usage_bytes, (long long)q);
}

/* user_op step of user quota: set the override if it differs, bump. */
static enum err user_quota_step(struct store *s, struct user_op *x)
{
	enum err e;
	if (x->acc.quota_bytes == x->quota)
		return ERR_OK;
	if ((e = store_account_set_quota(s, x->username, x->quota)))
		return e;
	x->changed = 1;
	/* the quota is part of GET /v1/status, whose ETag is the account_version */
	return store_account_bump(s, x->acc.id);
}

/*
 * user quota NAME BYTES|none: set or remove the account's quota override in
 * one write transaction; the old and new quota go to stderr.
 */
static int cmd_user_quota(struct admin *a, int argc, char **argv)
{
	char name[STORE_USERNAME_MAX + 1], was[96], now[96];
	int64_t bytes = -1;
	if (operands(a, argc, argv, OPERANDS("NAME", "BYTES (or none)")) != ADMIN_OK ||
	    user_name(a, argv[0], name) != ADMIN_OK)
		return ADMIN_USAGE;
	if (strcmp(argv[1], "none") != 0 && parse_bytes(argv[1], &bytes) != 0)
		return usage_error(a, "BYTES is a whole number, optionally with K, M or G, or none; not '%s'", argv[1]);
	struct user_op x = {.username = name, .step = user_quota_step, .quota = bytes};
	if (user_tx(a, STORE_RW, &x, "cannot set the quota") != ADMIN_OK)
		return ADMIN_FAIL;
	struct store_account after = x.acc;
	after.quota_bytes = bytes;
	if (!x.changed)
		fprintf(stderr, PROG ": user %s: quota already %s\n", name, quota_text(a->cfg, &after, now, sizeof now));
	else
		fprintf(stderr, PROG ": user %s: quota %s (was %s)\n", name, quota_text(a->cfg, &after, now, sizeof now),
		    quota_text(a->cfg, &x.acc, was, sizeof was));
	warn_over_quota(a->cfg, &after);
	return ADMIN_OK;
}

/* user_op step of user plan: count the collections, set the plan if it differs, bump. */
static enum err user_plan_step(struct store *s, struct user_op *x)
{
	enum err e = store_collection_count(s, x->acc.id, &x->collections);
	if (e || strcmp(x->acc.plan, x->plan) == 0)
		return e;
	if ((e = store_account_set_plan(s, x->username, x->plan)))
		return e;
	x->changed = 1;
	return store_account_bump(s, x->acc.id);
}

/*
 * user plan NAME PLAN: assign a plan of the configuration in one write
 * transaction. An unknown plan fails (exit 1) with the configured ones,
 * before the store is opened.
 */
static int cmd_user_plan(struct admin *a, int argc, char **argv)
{
	char name[STORE_USERNAME_MAX + 1], now[96];
	struct user_op x = {.username = name, .step = user_plan_step};
	const struct plan *p;
	if (operands(a, argc, argv, OPERANDS("NAME", "PLAN")) != ADMIN_OK || user_name(a, argv[0], name) != ADMIN_OK)
		return ADMIN_USAGE;
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	if (!(p = config_plan(a->cfg, argv[1]))) {
		fprintf(stderr, PROG ": no such plan: %s (the configured plans:", argv[1]);
		for (int i = 0; i < a->cfg->n_plans; i++)
			fprintf(stderr, " %s", a->cfg->plans[i].name);
		fputs(")\n", stderr);
		return ADMIN_FAIL;
	}
	x.plan = p->name;
	if (user_tx(a, STORE_RW, &x, "cannot set the plan") != ADMIN_OK)
		return ADMIN_FAIL;
	struct store_account after = x.acc;
	snprintf(after.plan, sizeof after.plan, "%s", p->name);
	if (!x.changed)
		fprintf(stderr, PROG ": user %s: plan already %s; quota %s\n", name, p->name,
		    quota_text(a->cfg, &after, now, sizeof now));
	else
		fprintf(stderr, PROG ": user %s: plan %s (was %s); quota %s\n", name, p->name, x.acc.plan,
		    quota_text(a->cfg, &after, now, sizeof now));
	warn_over_quota(a->cfg, &after);
	if (x.collections > p->collections)
		fprintf(stderr, PROG ": warning: user %s has %lld collections, more than the %lld of plan %s: "
		    "no new collection can be made\n", name, (long long)x.collections, (long long)p->collections, p->name);
	return ADMIN_OK;
}

/* ---- check ---- */

/* The state of one `check`: what was counted, and copies of what differs. */
struct check_run {
	int repair;                           /* set the differences right, in the same transaction */
	int integrity_ok;                     /* PRAGMA integrity_check said "ok" alone */
	int64_t naccounts, ncollections;      /* seen by the recount */
	struct store_recount_collection *cols; /* collections with a difference */
	size_t ncols, capcols;
	struct store_recount_account *accts;  /* accounts with a difference */
	size_t naccts, capaccts;
	int64_t *ids;                         /* repair: the accounts repaired, each once */
	size_t nids;
	int oom;                              /* an allocation failed during the walk */
};

/*
 * Keep a copy of the `size` bytes at elem as the last element of the array
 * *v of *cap elements, *len of them used, growing it as needed. 0, or 1 with
 * x->oom set when out of memory (*v and *len unchanged): the walk stops.
 */
static int keep(struct check_run *x, void **v, size_t *cap, size_t *len, const void *elem, size_t size)
{
	if (*len == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *nv = ncap <= SIZE_MAX / size ? realloc(*v, ncap * size) : NULL;
		if (!nv) {
			x->oom = 1;
			return 1;
		}
		*v = nv;
		*cap = ncap;
	}
	memcpy((char *)*v + *len * size, elem, size);
	(*len)++;
	return 0;
}

/* 1 if a collection's stored counters disagree with its data. */
static int collection_differs(const struct store_recount_collection *c)
{
	return c->records != c->real_records || c->bytes != c->real_bytes || c->version < c->real_version;
}

/* 1 if an account's stored usage disagrees with its collections' data. */
static int account_differs(const struct store_recount_account *acc)
{
	return acc->usage_bytes != acc->real_bytes || acc->usage_records != acc->real_records;
}

/* store_integrity_check callback: print each line; anything but one "ok" is a failure. */
static int integrity_row(void *ctx, const char *line)
{
	struct check_run *x = ctx;
	printf("integrity_check: %s\n", line);
	if (strcmp(line, "ok") != 0)
		x->integrity_ok = 0;
	return ferror(stdout) ? 1 : 0;
}

/* store_recount_collections callback: count it, keep a copy if it differs. */
static int recount_collection_row(void *ctx, const struct store_recount_collection *c)
{
	struct check_run *x = ctx;
	x->ncollections++;
	return collection_differs(c) ? keep(x, (void **)&x->cols, &x->capcols, &x->ncols, c, sizeof *c) : 0;
}

/* store_recount_accounts callback: count it, keep a copy if it differs. */
static int recount_account_row(void *ctx, const struct store_recount_account *acc)
{
	struct check_run *x = ctx;
	x->naccounts++;
	return account_differs(acc) ? keep(x, (void **)&x->accts, &x->capaccts, &x->naccts, acc, sizeof *acc) : 0;
}

/* qsort comparison of two int64_t. */
static int cmp_int64(const void *pa, const void *pb)
{
	int64_t l = *(const int64_t *)pa, r = *(const int64_t *)pb;
	return (l > r) - (l < r);
}

/*
 * Repair inside the recount's write transaction: every differing counter
 * takes its recounted value, then each account touched (by a collection or
 * its own usage) has its account_version bumped once; x->ids, x->nids are
 * those accounts.
 */
static enum err check_repair(struct store *s, struct check_run *x)
{
	enum err e;
	size_t n = 0;
	for (size_t i = 0; i < x->ncols; i++) {
		const struct store_recount_collection *c = &x->cols[i];
		int64_t v = c->version > c->real_version ? c->version : c->real_version;
		if ((e = store_collection_set_counters(s, c->id, c->real_records, c->real_bytes, v)))
			return e;
	}
	for (size_t i = 0; i < x->naccts; i++)
		if ((e = store_account_set_usage(s, x->accts[i].id, x->accts[i].real_bytes, x->accts[i].real_records)))
			return e;
	if (x->ncols + x->naccts == 0)
		return ERR_OK;
	x->ids = malloc((x->ncols + x->naccts) * sizeof *x->ids);
	if (!x->ids)
		return ERR_INTERNAL;
	for (size_t i = 0; i < x->ncols; i++)
		x->ids[n++] = x->cols[i].account_id;
	for (size_t i = 0; i < x->naccts; i++)
		x->ids[n++] = x->accts[i].id;
	qsort(x->ids, n, sizeof *x->ids, cmp_int64);
	x->nids = 0;
	for (size_t i = 0; i < n; i++) {
		if (x->nids && x->ids[x->nids - 1] == x->ids[i])
			continue;
		x->ids[x->nids++] = x->ids[i];
		if ((e = store_account_bump(s, x->ids[i])))
			return e;
	}
	return ERR_OK;
}

/*
 * store_read (check) or store_tx (check --repair) body: recount collections
 * and accounts from one snapshot, keeping what differs; with repair, set it
 * right before the commit.
 */
static enum err check_tx(struct store *s, void *arg)
{
	struct check_run *x = arg;
	enum err e;
	x->naccounts = x->ncollections = 0;
	x->ncols = x->naccts = x->nids = 0;
	free(x->ids);
	x->ids = NULL;
	if ((e = store_recount_collections(s, recount_collection_row, x)) ||
	    (!x->oom && (e = store_recount_accounts(s, recount_account_row, x))))
		return e;
	if (x->oom)
		return ERR_INTERNAL;
	return x->repair ? check_repair(s, x) : ERR_OK;
}

/* Print one counter that differs: "TAG: account A[, collection C]: FIELD stored S, actual R". */
static void put_difference(const char *tag, const char *username, const char *collection, const char *field,
    int64_t stored, int64_t actual)
{
	printf("%s: account %s%s%s: %s stored %lld, actual %lld\n", tag, username, collection ? ", collection " : "",
	    collection ? collection : "", field, (long long)stored, (long long)actual);
}

/* Print every difference x found, each line tagged `tag`; returns their number. */
static int64_t put_differences(const struct check_run *x, const char *tag)
{
	int64_t n = 0;
	for (size_t i = 0; i < x->ncols; i++) {
		const struct store_recount_collection *c = &x->cols[i];
		if (c->records != c->real_records && ++n)
			put_difference(tag, c->username, c->name, "records", c->records, c->real_records);
		if (c->bytes != c->real_bytes && ++n)
			put_difference(tag, c->username, c->name, "bytes", c->bytes, c->real_bytes);
		if (c->version < c->real_version && ++n)
			put_difference(tag, c->username, c->name, "version", c->version, c->real_version);
	}
	for (size_t i = 0; i < x->naccts; i++) {
		const struct store_recount_account *acc = &x->accts[i];
		if (acc->usage_bytes != acc->real_bytes && ++n)
			put_difference(tag, acc->username, NULL, "usage_bytes", acc->usage_bytes, acc->real_bytes);
		if (acc->usage_records != acc->real_records && ++n)
			put_difference(tag, acc->username, NULL, "usage_records", acc->usage_records, acc->real_records);
	}
	return n;
}

/* "N thing" or "N things". */
#define PLURAL(n, one, many) (long long)(n), ((n) == 1 ? (one) : (many))

/*
 * The integrity check (SQLite; PostgreSQL checks its own pages, so there it
 * says so and is skipped), then the recount (read-only, or with repair the
 * recount and the repair in one write transaction) of the store opened at
 * `location` (a->store, or the configuration's). Results on stdout;
 * ADMIN_FAIL on an integrity error or an unrepaired difference.
 */
static int run_check(struct admin *a, const char *location, int repair)
{
	struct check_run x;
	int rc = ADMIN_FAIL;
	enum err e;
	memset(&x, 0, sizeof x);
	x.repair = repair;
	if (admin_store(a, x.repair ? STORE_RW : STORE_RO) != 0)
		return ADMIN_FAIL;
	x.integrity_ok = 1;
	if (store_location_shared(location))
		printf("integrity_check: not run on PostgreSQL (it checks its own pages; see pg_amcheck(1))\n");
	else if ((e = store_integrity_check(a->store, integrity_row, &x)) != ERR_OK)
		return store_fail(e, "cannot run the integrity check");
	if (!x.integrity_ok && x.repair)
		return fail("check: the store fails its integrity check: its counters are not repaired "
		    "(restore a backup, or recover the file with sqlite3's .recover first)");
	if (admin_tx(a, x.repair ? STORE_RW : STORE_RO, check_tx, &x, NULL,
	    x.repair ? "cannot recount and repair the counters" : "cannot recount the counters") != ADMIN_OK)
		goto out;
	int64_t n = put_differences(&x, x.repair ? "repaired" : "differs");
	if (!x.integrity_ok) {
		fail("check: the store fails its integrity check%s", n ? ", and counters differ" : "");
		goto out;
	}
	if (n && !x.repair) {
		fail("check: %lld %s from the data (`check --repair` sets them right)",
		    PLURAL(n, "counter differs", "counters differ"));
		goto out;
	}
	if (n)
		printf("check: repaired %lld %s of %lld %s\n", PLURAL(n, "counter", "counters"),
		    PLURAL(x.nids, "account", "accounts"));
	printf("check: ok (%lld %s, %lld %s)\n", PLURAL(x.naccounts, "account", "accounts"),
	    PLURAL(x.ncollections, "collection", "collections"));
	rc = ADMIN_OK;
out:
	free(x.cols);
	free(x.accts);
	free(x.ids);
	return rc;
}

/* check [--repair]: run_check on the configuration's store. */
static int cmd_check(struct admin *a, int argc, char **argv)
{
	int repair = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--repair") != 0)
			return unexpected(a, argv[i]);
		repair = 1;
	}
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	return run_check(a, a->cfg->database, repair);
}

/* ---- purge ---- */

#define EVENTS_KEEP_DAYS 365

/*
 * What one purge batch works with and reports. A kind is purged in batches
 * of `limit` rows (tombstones: collections), each in a write transaction of
 * its own, so that the handlers' writers wait at most one batch.
 */
struct purge_run {
	const struct config *cfg;
	int64_t now;
	int64_t limit;       /* the batch size of the step */
	int64_t n;           /* out: rows of its kind removed */
	int64_t collections; /* out: the collections touched (tombstones) */
	struct share_ids ids; /* out: accounts to wake after the commit (invitations) */
};

/* store_tx body: the tokens expired by now (used refresh tokens too). */
static enum err purge_tokens_tx(struct store *s, void *arg)
{
	struct purge_run *x = arg;
	return store_purge_tokens(s, x->now, x->limit, &x->n);
}

/* store_tx body: the invites that expired unused. */
static enum err purge_invites_tx(struct store *s, void *arg)
{
	struct purge_run *x = arg;
	return store_purge_invites(s, x->now, x->limit, &x->n);
}

/* store_tx body: the sharing invitations that expired, each settled as a withdrawal (share_expire). */
static enum err purge_invitations_tx(struct store *s, void *arg)
{
	struct purge_run *x = arg;
	return share_expire(s, x->now, x->limit, &x->n, &x->ids);
}

/* store_tx body: tombstones older than tombstones.keep_days, with the history of their records. */
static enum err purge_tombstones_tx(struct store *s, void *arg)
{
	struct purge_run *x = arg;
	struct store_purged_tombstones t;
	enum err e = store_purge_tombstones(s, x->now - x->cfg->tombstones.keep_days * DAY_SECONDS, x->limit, &t);
	x->n = t.tombstones;
	x->collections = t.collections;
	return e;
}

/* store_tx body: activity events older than EVENTS_KEEP_DAYS. */
static enum err purge_events_tx(struct store *s, void *arg)
{
	struct purge_run *x = arg;
	return store_purge_events(s, x->now - (int64_t)EVENTS_KEEP_DAYS * DAY_SECONDS, x->limit, &x->n);
}

/* Anonymous slots neither read nor written for slots.expire_days. */
static enum err purge_slots_tx(struct store *s, void *arg)
{
	struct purge_run *x = arg;
	return store_purge_slots(s, x->now - x->cfg->slots.expire_days * DAY_SECONDS, x->limit, &x->n);
}

/*
 * The kinds purge removes, in order, each in batches. A new kind is one
 * store function, one store_tx body above and one row here. Batch sizes:
 * small rows by the thousand; slots (up to slots.max_bytes each) and
 * collections (all the tombstones of each) by fewer.
 */
static const struct purge_step {
	const char *one, *many;                       /* "expired token", "expired tokens" */
	enum err (*tx)(struct store *s, void *arg);   /* its store_tx body, given a struct purge_run */
	int per_collection;                           /* report " (collections: N)" */
	int64_t limit;                                /* the batch size */
} purge_steps[] = {
	{"expired token", "expired tokens", purge_tokens_tx, 0, 1000},
	{"expired invite", "expired invites", purge_invites_tx, 0, 1000},
	{"expired invitation", "expired invitations", purge_invitations_tx, 0, 1000},
	{"tombstone", "tombstones", purge_tombstones_tx, 1, 64},
	{"old event", "old events", purge_events_tx, 0, 1000},
	{"expired slot", "expired slots", purge_slots_tx, 0, 16},
};
#define NPURGE_STEPS (sizeof purge_steps / sizeof purge_steps[0])

/*
 * purge: run each step of purge_steps; print "purge: " and what each removed
 * on one line of stdout. If a batch fails, the batches before it stay done
 * and are counted in what is printed; the failure names the step it was in.
 */
static int cmd_purge(struct admin *a, int argc, char **argv)
{
	char line[128 * NPURGE_STEPS + 16], what[96];
	size_t len = 0, done;
	struct purge_run x;
	enum err e = ERR_OK;
	if (operands(a, argc, argv, NO_OPERANDS) != ADMIN_OK)
		return ADMIN_USAGE;
	if (admin_store(a, STORE_RW) != 0)
		return ADMIN_FAIL;
	line[0] = '\0';
	for (done = 0; done < NPURGE_STEPS; done++) {
		const struct purge_step *p = &purge_steps[done];
		int64_t n = 0, collections = 0;
		memset(&x, 0, sizeof x);
		x.cfg = a->cfg;
		x.now = (int64_t)time(NULL); /* one horizon for all the batches of a step */
		x.limit = p->limit;
		do {
			if ((e = store_tx(a->store, p->tx, &x)) != ERR_OK)
				break;
			/* committed: their status long-polls and live sockets learn it */
			for (size_t i = 0; i < x.ids.n; i++)
				admin_poke(a, x.ids.v[i]);
			n += x.n;
			collections += x.collections;
			/* a full batch: there may be more */
		} while ((p->per_collection ? x.collections : x.n) == p->limit);
		share_ids_free(&x.ids);
		if (e != ERR_OK && n == 0)
			break;
		/* each piece is far shorter than the room left for it */
		len += (size_t)snprintf(line + len, sizeof line - len, "%s %lld %s", done ? "," : "",
		    PLURAL(n, p->one, p->many));
		if (p->per_collection)
			len += (size_t)snprintf(line + len, sizeof line - len, " (collections: %lld)",
			    (long long)collections);
		if (e != ERR_OK)
			break;
	}
	if (len > 0)
		printf("purge:%s\n", line);
	if (e != ERR_OK) {
		snprintf(what, sizeof what, "cannot purge the %s%s", purge_steps[done].many,
		    len ? " (what is printed was purged)" : "");
		return store_fail(e, what);
	}
	return ADMIN_OK;
}

/* ---- init and migrate ---- */

/*
 * Whether there is a store at location and its schema version (0 if there
 * is none): 1 or 0, or -1 printed on failure.
 */
static int store_version(const char *location, int *v)
{
	char err[1024];
	int r = store_location_probe(location, v, err, sizeof err);
	if (r < 0)
		fail("%s", err);
	return r;
}

/*
 * init: the store (migrations) and the server secret, each created only if
 * missing; one line per thing on stdout saying what was done.
 */
static int cmd_init(struct admin *a, int argc, char **argv)
{
	char err[1024];
	uint8_t secret[AUTH_SECRET_LEN];
	struct stat st;
	int before;
	if (operands(a, argc, argv, NO_OPERANDS) != ADMIN_OK)
		return ADMIN_USAGE;
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	int had_store = store_version(a->cfg->database, &before);
	if (had_store < 0)
		return ADMIN_FAIL;
	if (store_migrate(a->cfg->database, err, sizeof err) != 0)
		return fail("%s", err);
	if (!had_store)
		printf("store %s: created (schema version %d)\n", a->cfg->database, store_schema_version());
	else if (before < store_schema_version())
		printf("store %s: migrated (schema version %d -> %d)\n", a->cfg->database, before,
		    store_schema_version());
	else
		printf("store %s: exists (schema version %d)\n", a->cfg->database, before);
	int had_secret = stat(a->cfg->secret_file, &st) == 0;
	int rc = auth_secret_load(a->cfg->secret_file, secret, err, sizeof err);
	bsc_wipe(secret, sizeof secret);
	if (rc != 0)
		return fail("%s", err);
	printf("secret %s: %s\n", a->cfg->secret_file, had_secret ? "exists" : "created (mode 0600)");
	return ADMIN_OK;
}

/* migrate: apply the pending migrations; print the versions before and after. */
static int cmd_migrate(struct admin *a, int argc, char **argv)
{
	char err[1024];
	int before, after;
	if (operands(a, argc, argv, NO_OPERANDS) != ADMIN_OK)
		return ADMIN_USAGE;
	if (admin_config(a) != 0 || store_version(a->cfg->database, &before) < 0)
		return ADMIN_FAIL;
	if (store_migrate(a->cfg->database, err, sizeof err) != 0)
		return fail("%s", err);
	if (store_version(a->cfg->database, &after) < 0)
		return ADMIN_FAIL;
	printf("migrate: schema version %d -> %d%s\n", before, after, before == after ? " (nothing to do)" : "");
	return ADMIN_OK;
}

/* ---- user show, user delete, sessions revoke ---- */

/*
 * The one argument NAME of user show and sessions revoke, lowercased into
 * name: ADMIN_OK, or a usage error for a missing NAME, then an invalid one,
 * then an argument too many (the order these commands check in).
 */
static int one_name(struct admin *a, int argc, char **argv, char name[STORE_USERNAME_MAX + 1])
{
	if (argc > 0 && user_name(a, argv[0], name) != ADMIN_OK)
		return ADMIN_USAGE;
	return operands(a, argc, argv, OPERANDS("NAME"));
}

/* store_device_list callback: count. */
static int count_device(void *ctx, const struct store_device *d)
{
	(void)d;
	(*(int64_t *)ctx)++;
	return 0;
}

/* user_op step of user show: count what the account has. */
static enum err user_info_step(struct store *s, struct user_op *x)
{
	enum err e;
	if ((e = store_collection_count(s, x->acc.id, &x->collections)) ||
	    (e = store_backup_count(s, x->acc.id, &x->backups)))
		return e;
	x->devices = 0;
	return store_device_list(s, x->acc.id, count_device, &x->devices);
}

/* user show NAME: one "key: value" line per field on stdout. */
static int cmd_user_show(struct admin *a, int argc, char **argv)
{
	char name[STORE_USERNAME_MAX + 1], created[21], quota[96];
	struct user_op x = {.username = name, .step = user_info_step};
	if (one_name(a, argc, argv, name) != ADMIN_OK)
		return ADMIN_USAGE;
	if (user_tx(a, STORE_RO, &x, "cannot read the account") != ADMIN_OK)
		return ADMIN_FAIL;
	json_time(x.acc.created_at, created);
	printf("username: %s\naccount id: %s\ncreated: %s\nplan: %s\nquota: %s\n", x.acc.username, x.acc.public_id,
	    created, x.acc.plan, quota_text(a->cfg, &x.acc, quota, sizeof quota));
	printf("usage bytes: %lld\nusage records: %lld\ncollections: %lld\nbackups: %lld\ndevices: %lld\n"
	       "disabled: %s\nkeyring version: %lld\n",
	    (long long)x.acc.usage_bytes, (long long)x.acc.usage_records, (long long)x.collections,
	    (long long)x.backups, (long long)x.devices, x.acc.disabled ? "yes" : "no",
	    (long long)x.acc.keyring_version);
	return ADMIN_OK;
}

/* user_op step of user delete. */
static enum err user_delete_step(struct store *s, struct user_op *x)
{
	/* whoever shared a collection with it sees it go (their status moves) */
	enum err e = store_share_account_peers(s, x->acc.id, NULL, NULL);
	return e ? e : store_account_delete(s, x->acc.id);
}

/* user delete NAME [--yes]: delete the account (cascade) in one write transaction. */
static int cmd_user_delete(struct admin *a, int argc, char **argv)
{
	char name[STORE_USERNAME_MAX + 1];
	struct user_op x = {.username = name, .step = user_delete_step};
	int yes = 0, n = 0;
	const char *who = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (argv[i][0] == '-' || n++)
			return unexpected(a, argv[i]);
		else
			who = argv[i];
	}
	if (!who)
		return usage_error(a, "NAME is missing");
	if (user_name(a, who, name) != ADMIN_OK)
		return ADMIN_USAGE;
	if (!yes)
		return fail("user delete %s: this deletes the account and all its data for good; "
		    "repeat with --yes to do it", name);
	if (user_tx(a, STORE_RW, &x, "cannot delete the account") != ADMIN_OK)
		return ADMIN_FAIL;
	admin_poke(a, x.acc.id);
	printf("user %s deleted (%lld bytes, %lld records)\n", name, (long long)x.acc.usage_bytes,
	    (long long)x.acc.usage_records);
	return ADMIN_OK;
}

/* user_op step of sessions revoke. */
static enum err sessions_revoke_step(struct store *s, struct user_op *x)
{
	return store_session_revoke_account(s, x->acc.id, &x->devices, &x->tokens);
}

/* sessions revoke NAME: every token and device of the account, in one write transaction. */
static int cmd_sessions_revoke(struct admin *a, int argc, char **argv)
{
	char name[STORE_USERNAME_MAX + 1];
	struct user_op x = {.username = name, .step = sessions_revoke_step};
	if (one_name(a, argc, argv, name) != ADMIN_OK)
		return ADMIN_USAGE;
	if (user_tx(a, STORE_RW, &x, "cannot revoke the sessions") != ADMIN_OK)
		return ADMIN_FAIL;
	admin_poke(a, x.acc.id);
	printf("sessions of %s revoked: %lld %s, %lld %s\n", name, PLURAL(x.tokens, "token", "tokens"),
	    PLURAL(x.devices, "device", "devices"));
	return ADMIN_OK;
}

/* user_op step of user mfa-off. */
static enum err mfa_off_step(struct store *s, struct user_op *x)
{
	return accounts_mfa_off(s, x->acc.id, &x->mfa_was_on);
}

/* user mfa-off NAME: two-factor login off without a code, in one write transaction. */
static int cmd_user_mfa_off(struct admin *a, int argc, char **argv)
{
	char name[STORE_USERNAME_MAX + 1];
	struct user_op x = {.username = name, .step = mfa_off_step};
	if (one_name(a, argc, argv, name) != ADMIN_OK)
		return ADMIN_USAGE;
	if (user_tx(a, STORE_RW, &x, "cannot turn two-factor login off") != ADMIN_OK)
		return ADMIN_FAIL;
	if (x.mfa_was_on)
		printf("two-factor login of %s turned off: it logs in with its password alone\n", name);
	else
		fprintf(stderr, PROG ": user %s has no two-factor login; nothing changed\n", name);
	return ADMIN_OK;
}

/* ---- invite revoke ---- */

/* store_tx body of invite revoke. */
static enum err invite_revoke_tx(struct store *s, void *arg)
{
	return store_invite_revoke(s, *(const int64_t *)arg);
}

/* invite revoke ID: delete one unused invite. */
static int cmd_invite_revoke(struct admin *a, int argc, char **argv)
{
	long id;
	if (operands(a, argc, argv, OPERANDS("ID")) != ADMIN_OK)
		return ADMIN_USAGE;
	if (parse_long(argv[0], 1, INT32_MAX, &id) != 0)
		return usage_error(a, "ID is a number from `invite list`, not '%s'", argv[0]);
	if (admin_store(a, STORE_RW) != 0)
		return ADMIN_FAIL;
	int64_t v = id;
	enum err e = store_tx(a->store, invite_revoke_tx, &v);
	if (e == ERR_NOT_FOUND)
		return fail("no such invite: %ld", id);
	if (e == ERR_CONFLICT)
		return fail("invite %ld was used already; it cannot be revoked (delete the account instead)", id);
	if (e != ERR_OK)
		return store_fail(e, "cannot revoke the invite");
	printf("invite %ld revoked\n", id);
	return ADMIN_OK;
}

/* ---- stats ---- */

#define STATS_TOP 5

struct stats_run {
	struct store_stats st;
	int64_t collections;
};

/* store_read body of stats: the totals from one snapshot. */
static enum err stats_tx(struct store *s, void *arg)
{
	struct stats_run *x = arg;
	enum err e = store_stats(s, &x->st);
	return e ? e : store_collections_total(s, &x->collections);
}

/* store_top_accounts callback: one line. */
static int top_row(void *ctx, const char *username, int64_t bytes, int64_t records)
{
	(void)ctx;
	printf("  %-24s %14lld bytes %9lld records\n", username, (long long)bytes, (long long)records);
	return ferror(stdout) ? 1 : 0;
}

/* stats: totals, then the largest accounts, on stdout. */
static int cmd_stats(struct admin *a, int argc, char **argv)
{
	struct stats_run x;
	enum err e;
	if (operands(a, argc, argv, NO_OPERANDS) != ADMIN_OK)
		return ADMIN_USAGE;
	memset(&x, 0, sizeof x);
	if (admin_tx(a, STORE_RO, stats_tx, &x, NULL, "cannot read the totals") != ADMIN_OK)
		return ADMIN_FAIL;
	printf("accounts: %lld\ncollections: %lld\nrecords: %lld\nbytes: %lld\nbackups: %lld\nslots: %lld\n"
	       "store size: %lld\n",
	    (long long)x.st.accounts, (long long)x.collections, (long long)x.st.records, (long long)x.st.bytes,
	    (long long)x.st.backups, (long long)x.st.slots, (long long)x.st.file_bytes);
	printf("top accounts by bytes:\n");
	if ((e = store_top_accounts(a->store, STATS_TOP, top_row, NULL)) != ERR_OK)
		return store_fail(e, "cannot list the largest accounts");
	return ADMIN_OK;
}

/* ---- backup and restore ---- */

/*
 * The answer of a command that only SQLite can do (a file-level copy), on a
 * store on PostgreSQL: what to use instead. ADMIN_FAIL.
 */
static int sqlite_only(const char *cmd)
{
	return fail("%s: the store is on PostgreSQL, and %s works on an SQLite file only: use PostgreSQL's own "
	    "tools (pg_dump -Fc DATABASE > FILE, and pg_restore into an empty database; or continuous archiving), "
	    "or `migrate-store --to FILE` for a copy as a new SQLite file", cmd, cmd);
}

/* backup FILE: an online copy, then its integrity check. */
static int cmd_backup(struct admin *a, int argc, char **argv)
{
	char err[1024], integrity[512];
	int version, ours;
	if (operands(a, argc, argv, OPERANDS("FILE")) != ADMIN_OK)
		return ADMIN_USAGE;
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	if (store_location_shared(a->cfg->database))
		return sqlite_only("backup");
	if (admin_store(a, STORE_RO) != 0)
		return ADMIN_FAIL;
	if (store_backup_to(a->store, argv[0], err, sizeof err) != 0)
		return fail("backup: %s", err);
	if (store_file_inspect(argv[0], &version, &ours, integrity, sizeof integrity, err, sizeof err) != 0)
		return fail("backup: the copy cannot be read: %s", err);
	printf("backup %s: schema version %d\nintegrity_check: %s\n", argv[0], version, integrity);
	if (strcmp(integrity, "ok") != 0)
		return fail("backup: the copy %s fails its integrity check", argv[0]);
	return ADMIN_OK;
}

/* restore FILE [--force]: check FILE, refuse a store in use unless forced, copy it over. */
static int cmd_restore(struct admin *a, int argc, char **argv)
{
	char err[1024], integrity[512];
	const char *file = NULL;
	int force = 0, version, ours;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (file || argv[i][0] == '-')
			return unexpected(a, argv[i]);
		else
			file = argv[i];
	}
	if (!file)
		return usage_error(a, "FILE is missing");
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	if (store_location_shared(a->cfg->database))
		return sqlite_only("restore");
	if (store_file_inspect(file, &version, &ours, integrity, sizeof integrity, err, sizeof err) != 0)
		return fail("restore: %s", err);
	if (strcmp(integrity, "ok") != 0)
		return fail("restore: %s fails its integrity check: %s", file, integrity);
	if (!ours)
		return fail("restore: %s is not a blindsync store", file);
	if (version > store_schema_version())
		return fail("restore: %s has schema version %d, newer than this program's %d", file, version,
		    store_schema_version());
	/* before this process opens the store: the test sees other processes only */
	int busy = store_in_use(a->cfg->database, err, sizeof err);
	if (busy < 0)
		return fail("restore: %s", err);
	if (busy && !force)
		return fail("restore: the store %s is in use by another process (stop the handlers, or use --force)",
		    a->cfg->database);
	if (store_migrate(a->cfg->database, err, sizeof err) != 0 ||
	    store_restore_from(a->cfg->database, file, err, sizeof err) != 0 ||
	    store_migrate(a->cfg->database, err, sizeof err) != 0)
		return fail("restore: %s", err);
	printf("restore: %s copied into %s (schema version %d -> %d)%s\n", file, a->cfg->database, version,
	    store_schema_version(), busy ? " while in use (--force)" : "");
	return ADMIN_OK;
}

/* ---- migrate-store ---- */

/* How migrate-store shows its progress on stderr. */
struct move_show {
	int tty;                /* stderr is a terminal: one line redrawn */
	const char *table;      /* the table of the last line */
	int64_t shown;          /* rows when a plain line was last printed */
};

/*
 * move_progress callback. On a terminal: one line, redrawn, "PHASE TABLE
 * DONE/TOTAL" with a bar; otherwise plain lines: one per table at its end,
 * and one per 100,000 rows of a large table.
 */
static void show_progress(void *ctx, const char *phase, const char *name, int64_t done, int64_t total)
{
	struct move_show *m = ctx;
	int last = done == total;
	if (m->tty) {
		char bar[21];
		int fill = total > 0 ? (int)(done * 20 / total) : 20;
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(20 - fill));
		bar[20] = '\0';
		fprintf(stderr, "\r" PROG ": %-6s %-18s [%s] %lld/%lld\033[K", phase, name, bar, (long long)done,
		    (long long)total);
		if (last)
			fputc('\n', stderr);
		return;
	}
	if (m->table != name) {
		m->table = name;
		m->shown = 0;
	}
	if (last || done - m->shown >= 100000) {
		fprintf(stderr, PROG ": %s %s: %lld of %lld rows\n", phase, name, (long long)done, (long long)total);
		m->shown = done;
	}
}

/* 1 if the PostgreSQL URI u carries a password (user:password@ or password=). */
static int uri_has_password(const char *u)
{
	const char *p = strstr(u, "://");
	if (!p)
		return 0;
	p += 3;
	size_t auth = strcspn(p, "/?@");
	if (p[auth] == '@' && memchr(p, ':', auth))
		return 1;
	const char *q = strchr(p, '?');
	for (; q; q = strchr(q + 1, '&'))
		if (strncmp(q + 1, "password=", 9) == 0)
			return 1;
	return 0;
}

/*
 * migrate-store --to URI|FILE [--force]: move_store from the
 * configuration's store, the report, then run_check on the target.
 */
static int cmd_migrate_store(struct admin *a, int argc, char **argv)
{
	char err[1024];
	const char *to = NULL;
	int force = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc && !to)
			to = argv[++i];
		else if (strncmp(argv[i], "--to=", 5) == 0 && !to)
			to = argv[i] + 5;
		else
			return unexpected(a, argv[i]);
	}
	if (!to || !*to)
		return usage_error(a, "--to is missing: a postgresql:// URI, or the path of a new SQLite file");
	if (strlen(to) >= STORE_LOCATION_MAX)
		return usage_error(a, "--to is too long");
	if (store_location_shared(to) && uri_has_password(to))
		return usage_error(a, "the URI holds a password: give it in a password file (PGPASSFILE, or passfile=)");
	if (admin_config(a) != 0)
		return ADMIN_FAIL;
	const char *from = a->cfg->database;
	if (!store_location_shared(from)) {
		int busy = store_in_use(from, err, sizeof err);
		if (busy < 0)
			return fail("migrate-store: %s", err);
		if (busy && !force)
			return fail("migrate-store: the store %s is in use by another process: stop the handlers first "
			    "(writes after the copy began would not move), or use --force", from);
	}
	struct move_show show = {isatty(STDERR_FILENO), NULL, 0};
	struct move_progress p = {show_progress, &show};
	struct move_report rep;
	if (move_store(from, to, &p, &rep, err, sizeof err) != 0)
		return fail("migrate-store: %s", err);
	printf("migrate-store: %s -> %s\n", from, to);
	for (int t = 0; t < ST__MAX; t++) {
		char hex[2 * BSC_SHA256_LEN + 1];
		if (bsc_hex(rep.digest[t], 8, hex, sizeof hex) != 0)
			hex[0] = '\0';
		printf("  %-18s %10lld rows  sha256 %s... equal\n", store_table_info((enum store_table)t)->name,
		    (long long)rep.rows[t], hex);
	}
	printf("  blob data %lld bytes\n", (long long)rep.blob_bytes);
	/* the recount, on the target */
	if (store_open(to, STORE_RO, &a->store, err, sizeof err) != 0) {
		a->store = NULL;
		return fail("migrate-store: cannot open the target: %s", err);
	}
	if (run_check(a, to, 0) != ADMIN_OK)
		return fail("migrate-store: the copy is exact but fails `check` (as the source does?): run "
		    "`check` on both");
	fprintf(stderr, PROG ": done: set database = \"%s\" in the configuration and restart the handlers\n",
	    store_location_shared(to) ? "URI" : to);
	return ADMIN_OK;
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
