/*
 * blindsync.c: the blindsync command line (client.md section 8) on
 * libblindsync-client. Passwords come from a no-echo prompt on a terminal
 * or from --password-file / BLINDSYNC_PASSWORD_FILE, never from argv; they
 * are wiped after use. One line on standard error per failure; the exit
 * status is the library's enum bs_status (0 done, 1 usage or local, 2
 * refused, 3 conflict, 4 unreachable, 5 cannot decrypt).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <json-c/json.h>

#include "blindsync.h"

#define MAX_INPUT (64u * 1024 * 1024)   /* a record read from a file or stdin */
#define MAX_PASSWORD 4096

static const char usage_text[] =
	"usage: blindsync [--server URL] [--home DIR] [--json] [--password-file F] [--totp CODE] COMMAND ...\n"
	"  register USER | login USER [--device NAME] | logout | passwd | whoami\n"
	"  devices [revoke ID]\n"
	"  put COLLECTION ID [FILE|-]   get COLLECTION ID [FILE|-]   rm COLLECTION ID\n"
	"  ls [COLLECTION]              history COLLECTION ID\n"
	"  sync [COLLECTION...]         watch [COLLECTION...]        conflicts [--clear]\n"
	"  backup put NAME FILE|-  |  backup get NAME [FILE|-]  |  backup ls  |  backup rm NAME\n"
	"  slot push FILE|-  |  slot pull [FILE|-]     (--app APP; the passphrase as a password)\n"
	"  export FILE | import FILE\n"
	"  recovery-key [--delete] | recover USER [--device NAME]\n"
	"  2fa [status] | 2fa enable | 2fa confirm CODE | 2fa disable | 2fa codes   (--totp CODE)\n"
	"  keys [USER] | trust USER\n"
	"  share COLLECTION USER [--role read|write|admin]   invitations   accept ID   decline ID\n"
	"  members COLLECTION   role COLLECTION USER ROLE   unshare COLLECTION USER   rotate COLLECTION\n"
	"  leave COLLECTION --owner OWNER\n"
	"  --owner OWNER: the record commands (put get rm ls history sync) and members, role, share,\n"
	"  unshare, rotate (an admin's: a random key kept in its keyring), leave act on the\n"
	"  collection OWNER shared with you\n";

static int json_out;
static const char *password_file;
static const char *app_name;
static const char *totp_code;   /* --totp, else BLINDSYNC_TOTP */
static const char *owner_opt;   /* --owner: another account's shared collection */
static const char *role_opt;    /* --role of share */

static int
usage(void)
{
	fputs(usage_text, stderr);
	return BS_LOCAL;
}

/* One line for a failure of the library; returns st. */
static int
fail(struct bs_client *c, int st)
{
	if (json_out) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string(bs_error_code(c)));
		json_object_object_add(o, "message", json_object_new_string(bs_error_message(c)));
		json_object_object_add(o, "exit", json_object_new_int(st));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	fprintf(stderr, "blindsync: %s\n", bs_error_message(c));
	return st;
}

/* Wipe and free a password. */
static void
drop(char *pw)
{
	if (pw) {
		volatile char *p = pw;
		while (*p)
			*p++ = 0;
		free(pw);
	}
}

static int quiet_missing;   /* a missing line is no error (import's optional line 2) */

/* Line n (1-based) of the password file, without its line ending. */
static char *
password_from_file(const char *path, int n)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *out = NULL;
	size_t cap = 0;
	ssize_t len = -1;

	if (!f) {
		fprintf(stderr, "blindsync: cannot read the password file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (int i = 0; i < n; i++)
		if ((len = getline(&line, &cap, f)) < 0)
			break;
	fclose(f);
	if (len < 0) {
		if (!quiet_missing)
			fprintf(stderr, "blindsync: the password file %s has no line %d\n", path, n);
	} else {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len > MAX_PASSWORD)
			fprintf(stderr, "blindsync: the password in %s is too long\n", path);
		else
			out = strdup(line);
	}
	if (line) {
		memset(line, 0, cap);
		free(line);
	}
	return out;
}

/* A password from the terminal without echo. */
static char *
password_from_tty(const char *prompt)
{
	struct termios old, quiet;
	char buf[MAX_PASSWORD + 2];
	char *out = NULL;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	FILE *tty;

	if (fd < 0 || !(tty = fdopen(fd, "r+"))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (fgets(buf, sizeof buf, tty)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		out = strdup(buf);
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	memset(buf, 0, sizeof buf);
	return out;
}

/* The password: line n of the password file, or a prompt on a terminal. */
static char *
get_password(const char *prompt, int n)
{
	const char *f = password_file ? password_file : getenv("BLINDSYNC_PASSWORD_FILE");
	char *pw;

	if (f && *f)
		return password_from_file(f, n);
	if (!isatty(STDIN_FILENO) && access("/dev/tty", R_OK) != 0) {
		fprintf(stderr, "blindsync: no terminal for the password: use --password-file F or "
		    "BLINDSYNC_PASSWORD_FILE\n");
		return NULL;
	}
	if (!(pw = password_from_tty(prompt)))
		fprintf(stderr, "blindsync: cannot read the password from the terminal: use --password-file\n");
	return pw;
}

/* Whether a prompt can reach the user: a controlling terminal opens. */
static int
can_prompt(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* The library's prompt for a second factor at login: from the terminal. */
static int
mfa_prompt(void *arg, int again, char *code, size_t size)
{
	char *got;

	(void)arg;
	got = password_from_tty(again ? "wrong code; two-factor code (or a recovery code): " :
	    "two-factor code from your app (or a recovery code): ");
	if (!got)
		return -1;
	snprintf(code, size, "%s", got);
	drop(got);
	return 0;
}

/* The prompt that answers with --totp / BLINDSYNC_TOTP once (for recover). */
static int
given_code(void *arg, int again, char *code, size_t size)
{
	(void)arg;
	if (again || !totp_code)
		return -1;
	snprintf(code, size, "%s", totp_code);
	return 0;
}

/* A two-factor code for 2fa disable|codes: --totp / BLINDSYNC_TOTP, else a prompt. */
static char *
get_code(void)
{
	char *code;

	if (totp_code && *totp_code)
		return strdup(totp_code);
	if (!can_prompt()) {
		fprintf(stderr, "blindsync: no terminal for the two-factor code: use --totp CODE or "
		    "BLINDSYNC_TOTP\n");
		return NULL;
	}
	if (!(code = password_from_tty("two-factor code from your app (or a recovery code): ")))
		fprintf(stderr, "blindsync: cannot read the code from the terminal: use --totp CODE\n");
	return code;
}

/* Read a whole file (or stdin for "-") up to MAX_INPUT. */
static int
read_input(const char *path, uint8_t **out, size_t *n)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rbe");
	uint8_t *p = NULL;
	size_t len = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (!f) {
		fprintf(stderr, "blindsync: cannot read %s: %s\n", path, strerror(errno));
		return BS_LOCAL;
	}
	for (;;) {
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			uint8_t *np;
			if (nc > MAX_INPUT + 1)
				nc = MAX_INPUT + 1;
			if (len == nc || !(np = realloc(p, nc))) {
				fprintf(stderr, "blindsync: %s is too large (at most %u bytes)\n", path, MAX_INPUT);
				free(p);
				if (f != stdin)
					fclose(f);
				return BS_LOCAL;
			}
			p = np;
			cap = nc;
		}
		size_t got = fread(p + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "blindsync: cannot read %s\n", path);
		free(p);
		if (f != stdin)
			fclose(f);
		return BS_LOCAL;
	}
	if (f != stdin)
		fclose(f);
	*out = p;
	*n = len;
	return BS_OK;
}

/* Write data to path ("-": stdout) through a temporary file renamed into place. */
static int
write_output(const char *path, const uint8_t *data, size_t n)
{
	char *tmp = NULL;
	int fd;

	if (strcmp(path, "-") == 0) {
		if (fwrite(data, 1, n, stdout) != n || fflush(stdout) != 0) {
			fprintf(stderr, "blindsync: cannot write to standard output\n");
			return BS_LOCAL;
		}
		return BS_OK;
	}
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return BS_LOCAL;
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "blindsync: cannot create %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return BS_LOCAL;
	}
	if (write(fd, data, n) != (ssize_t)n || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "blindsync: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return BS_LOCAL;
	}
	free(tmp);
	return BS_OK;
}

/* A progress line on standard error, only when it is a terminal. */
static void
progress(void *arg, uint64_t done, uint64_t total)
{
	static uint64_t shown;

	if (done != total && done - shown < (1u << 20))
		return;
	shown = done;
	if (total)
		fprintf(stderr, "\r%s %.1f / %.1f MiB", (const char *)arg, done / 1048576.0, total / 1048576.0);
	if (done == total)
		fputc('\n', stderr);
}

/*
 * A regular file to upload from path, or standard input copied into an
 * unlinked temporary file in home (mode 0600) when it is a pipe: the
 * upload needs its length first. -1 on failure, said on stderr.
 */
static int
open_upload(const char *path, const char *home)
{
	struct stat sb;
	char buf[65536];
	ssize_t n;
	int fd;

	if (strcmp(path, "-") != 0) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			fprintf(stderr, "blindsync: cannot read %s: %s\n", path, strerror(errno));
		return fd;
	}
	if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode))
		return dup(STDIN_FILENO);
	if ((fd = open(home, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "blindsync: cannot make a temporary file in %s: %s\n", home, strerror(errno));
		return -1;
	}
	while ((n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(fd, buf, (size_t)n) != n) {
			fprintf(stderr, "blindsync: cannot copy standard input: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
	}
	memset(buf, 0, sizeof buf);
	return fd;
}

static void
print_device(void *arg, const struct bs_device *d)
{
	struct json_object *arr = arg;

	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "device_id", json_object_new_string(d->id ? d->id : ""));
		json_object_object_add(o, "name", json_object_new_string(d->name ? d->name : ""));
		json_object_object_add(o, "type", json_object_new_string(d->type ? d->type : ""));
		json_object_object_add(o, "last_seen_at", json_object_new_string(d->last_seen_at ? d->last_seen_at : ""));
		json_object_object_add(o, "current", json_object_new_boolean(d->current));
		json_object_array_add(arr, o);
		return;
	}
	printf("%s\t%s\t%s\t%s%s\n", d->id ? d->id : "", d->name ? d->name : "", d->type ? d->type : "",
	    d->last_seen_at ? d->last_seen_at : "", d->current ? "\t(this device)" : "");
}

static void
print_name(void *arg, const char *name, int64_t version, size_t bytes)
{
	struct json_object *arr = arg;

	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "version", json_object_new_int64(version));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)bytes));
		json_object_array_add(arr, o);
		return;
	}
	printf("%s\t%lld\t%zu\n", name, (long long)version, bytes);
}

static void
print_shared(void *arg, const struct bs_shared_coll *sc)
{
	struct json_object *arr = arg;

	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(sc->name));
		json_object_object_add(o, "version", json_object_new_int64(sc->version));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)sc->bytes));
		json_object_object_add(o, "owner", json_object_new_string(sc->owner));
		json_object_object_add(o, "role", json_object_new_string(sc->role));
		json_object_array_add(arr, o);
		return;
	}
	printf("%s\t%lld\t%zu\t%s\t%s\n", sc->name, (long long)sc->version, sc->bytes, sc->owner, sc->role);
}

static void
print_version(void *arg, const struct bs_version *v)
{
	struct json_object *arr = arg;

	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "version", json_object_new_int64(v->version));
		json_object_object_add(o, "modified_at", json_object_new_string(v->modified_at ? v->modified_at : ""));
		json_object_object_add(o, "deleted", json_object_new_boolean(v->deleted));
		if (v->data)
			json_object_object_add(o, "data", json_object_new_string_len((const char *)v->data, (int)v->n));
		json_object_array_add(arr, o);
		return;
	}
	printf("%lld\t%s\t%s\n", (long long)v->version, v->modified_at ? v->modified_at : "",
	    v->deleted ? "deleted" : v->data ? "" : "pruned");
	if (v->data) {
		fwrite(v->data, 1, v->n, stdout);
		if (v->n && v->data[v->n - 1] != '\n')
			putchar('\n');
	}
}

static void
print_conflict(void *arg, const char *coll, const char *id, int64_t sv, const uint8_t *local, size_t n)
{
	struct json_object *arr = arg;

	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "collection", json_object_new_string(coll));
		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "server_version", json_object_new_int64(sv));
		json_object_object_add(o, "local", local ? json_object_new_string_len((const char *)local, (int)n) : NULL);
		json_object_array_add(arr, o);
		return;
	}
	printf("%s\t%s\tserver version %lld kept; your %s\n", coll, id, (long long)sv,
	    local ? "version:" : "deletion");
	if (local) {
		fwrite(local, 1, n, stdout);
		if (n && local[n - 1] != '\n')
			putchar('\n');
	}
}

/* Print a JSON array made by a listing (or nothing) and free it. */
static void
flush_json(struct json_object *o)
{
	if (o)
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static int sync_shown;   /* a sync progress line is on the terminal */

/* A sync's counts so far on standard error (set only when it is a terminal). */
static void
sync_progress(void *arg, const struct bs_sync_result *r)
{
	(void)arg;
	fprintf(stderr, "\rsync: %zu pushed, %zu pulled", r->pushed, r->pulled);
	sync_shown = 1;
}

/* End the sync progress line, if one was shown. */
static void
sync_progress_end(void)
{
	if (sync_shown)
		fputc('\n', stderr);
	sync_shown = 0;
}

/* What a sync did, on stderr (stdout with --json); conflicts set aside are
 * an exit 3 so that scripts see them. */
static int
report_sync(struct bs_client *c, const struct bs_sync_result *r)
{
	if (json_out) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "pushed", json_object_new_int64((int64_t)r->pushed));
		json_object_object_add(o, "pulled", json_object_new_int64((int64_t)r->pulled));
		json_object_object_add(o, "conflicts", json_object_new_int64((int64_t)r->conflicts));
		json_object_object_add(o, "kept_server", json_object_new_int64((int64_t)r->kept_server));
		json_object_object_add(o, "resyncs", json_object_new_int64((int64_t)r->resyncs));
		flush_json(o);
	}
	if (r->kept_server) {
		fprintf(stderr, "blindsync: %zu conflict(s): the server's version was kept; your changes "
		    "are set aside (blindsync conflicts shows them)\n", r->kept_server);
		return BS_CONFLICT;
	}
	return BS_OK;
}

/* backup put|get|ls|rm and slot push|pull. */
static int
cmd_blob(struct bs_client *c, int argc, char **argv, const char *home)
{
	int slot = strcmp(argv[0], "slot") == 0, rc, fd;
	const char *sub = argc > 1 ? argv[1] : "";
	bs_progress_fn pf = isatty(STDERR_FILENO) && !json_out ? progress : NULL;
	char *pp = NULL;

	/* slot push FILE --app APP, as client.md writes it */
	if (slot && argc >= 4 && strcmp(argv[argc - 2], "--app") == 0) {
		app_name = argv[argc - 1];
		argc -= 2;
	}
	if (!slot && strcmp(sub, "ls") == 0 && argc == 2) {
		struct json_object *arr = json_out ? json_object_new_array() : NULL;
		if ((rc = bs_backup_list(c, print_name, arr))) {
			json_object_put(arr);
			return fail(c, rc);
		}
		flush_json(arr);
		return BS_OK;
	}
	if (!slot && strcmp(sub, "rm") == 0 && argc == 3)
		return (rc = bs_backup_delete(c, argv[2])) ? fail(c, rc) : BS_OK;
	if (!slot && strcmp(sub, "put") == 0 && argc == 4) {
		if ((fd = open_upload(argv[3], home)) < 0)
			return BS_LOCAL;
		rc = bs_backup_put(c, argv[2], fd, pf, "backup put");
		close(fd);
		return rc ? fail(c, rc) : BS_OK;
	}
	if (!slot && strcmp(sub, "get") == 0 && (argc == 3 || argc == 4))
		return (rc = bs_backup_get(c, argv[2], argc == 4 ? argv[3] : "-")) ? fail(c, rc) : BS_OK;
	if (slot && ((strcmp(sub, "push") == 0 && argc == 3) ||
	    (strcmp(sub, "pull") == 0 && (argc == 2 || argc == 3)))) {
		if (!(pp = get_password("passphrase: ", 1)))
			return BS_LOCAL;
		if (sub[1] == 'u' && sub[2] == 's') {
			if ((fd = open_upload(argv[2], home)) < 0) {
				drop(pp);
				return BS_LOCAL;
			}
			rc = bs_slot_put(c, app_name, pp, fd, pf, "slot push");
			close(fd);
		} else
			rc = bs_slot_get(c, app_name, pp, argc == 3 ? argv[2] : "-");
		drop(pp);
		return rc ? fail(c, rc) : BS_OK;
	}
	return usage();
}

/* recovery-key [--delete] and recover USER. */
static int
cmd_recovery(struct bs_client *c, int argc, char **argv, const char *device)
{
	char text[BS_RECOVERY_TEXT_LEN + 1];
	char *pw = NULL, *key = NULL;
	int rc;

	if (strcmp(argv[0], "recover") == 0) {
		if (argc != 2)
			return usage();
		/* the recovery key is line 1 of the password file, the new password line 2 */
		if (!(key = get_password("recovery key: ", 1)))
			return BS_LOCAL;
		if (!(pw = get_password("new password: ", 2))) {
			drop(key);
			return BS_LOCAL;
		}
		/* the login after the reset asks for a code when two-factor login is on */
		if (totp_code)
			bs_set_mfa_prompt(c, given_code, NULL);
		else if (can_prompt())
			bs_set_mfa_prompt(c, mfa_prompt, NULL);
		rc = bs_recover(c, argv[1], key, pw, device);
		drop(key);
		drop(pw);
		if (rc)
			return fail(c, rc);
		if (!json_out)
			fprintf(stderr, "blindsync: new password set for %s; every other device is logged out "
			    "and the recovery key is used up: make a new one with blindsync recovery-key\n",
			    argv[1]);
		return BS_OK;
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--delete") != 0))
		return usage();
	if (!(pw = get_password("password: ", 1)))
		return BS_LOCAL;
	if (argc == 2) {
		rc = bs_recovery_key_delete(c, pw);
		drop(pw);
		return rc ? fail(c, rc) : BS_OK;
	}
	rc = bs_recovery_key_create(c, pw, text);
	drop(pw);
	if (rc)
		return fail(c, rc);
	if (json_out) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "recovery_key", json_object_new_string(text));
		flush_json(o);
	} else {
		fprintf(stderr, "blindsync: your recovery key, shown this once: keep it offline, apart "
		    "from your password. With it you can set a new password and keep your data; "
		    "without the password and this key, the data is gone.\n");
		printf("%s\n", text);
	}
	fflush(stdout);
	memset(text, 0, sizeof text);
	return BS_OK;
}

/* Print a recovery code (one a line; a JSON array with --json). */
static void
print_code(void *arg, const char *code)
{
	if (arg)
		json_object_array_add(arg, json_object_new_string(code));
	else
		printf("%s\n", code);
}

/* The recovery codes just made, with the advice on stderr. */
static int
codes_done(struct json_object *arr)
{
	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "recovery_codes", arr);
		flush_json(o);
	} else
		fprintf(stderr, "blindsync: these recovery codes are shown once; each logs in once "
		    "in place of a two-factor code: keep them apart from your password\n");
	return BS_OK;
}

/* 2fa [status] | enable | confirm CODE | disable | codes. */
static int
cmd_2fa(struct bs_client *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "status";
	struct json_object *arr = NULL;
	char *pw = NULL, *code = NULL, *secret = NULL, *uri = NULL;
	int rc, totp, rkey;

	if (strcmp(sub, "status") == 0 && argc <= 2) {
		if ((rc = bs_security(c, &totp, &rkey)))
			return fail(c, rc);
		if (json_out) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "totp", json_object_new_boolean(totp));
			json_object_object_add(o, "recovery_key", json_object_new_boolean(rkey));
			flush_json(o);
		} else
			printf("two-factor login: %s\nrecovery key: %s\n", totp ? "on" : "off",
			    rkey ? "set" : "none");
		return BS_OK;
	}
	if (strcmp(sub, "confirm") == 0 && (argc == 3 || argc == 2)) {
		if (argc == 3)
			code = strdup(argv[2]);
		else if (!(code = get_code()))
			return BS_LOCAL;
		arr = json_out ? json_object_new_array() : NULL;
		if (!code || (rc = bs_totp_confirm(c, code, print_code, arr))) {
			drop(code);
			json_object_put(arr);
			return code ? fail(c, rc) : BS_LOCAL;
		}
		drop(code);
		if (!json_out)
			fprintf(stderr, "blindsync: two-factor login is on\n");
		return codes_done(arr);
	}
	if (argc != 2 || (strcmp(sub, "enable") && strcmp(sub, "disable") && strcmp(sub, "codes")))
		return usage();
	if (!(pw = get_password("password: ", 1)))
		return BS_LOCAL;
	if (strcmp(sub, "enable") == 0) {
		rc = bs_totp_enable(c, pw, &secret, &uri);
		drop(pw);
		if (rc)
			return fail(c, rc);
		if (json_out) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "secret", json_object_new_string(secret));
			json_object_object_add(o, "uri", json_object_new_string(uri));
			flush_json(o);
		} else
			printf("secret: %s\nuri: %s\n", secret, uri);
		fflush(stdout);
		bs_free(secret, strlen(secret) + 1);
		bs_free(uri, strlen(uri) + 1);
		if (json_out || (!totp_code && !can_prompt())) {
			if (!json_out)
				fprintf(stderr, "blindsync: add the secret to an authenticator app, then run "
				    "blindsync 2fa confirm CODE with the code it shows\n");
			return BS_OK;
		}
		if (!json_out && !totp_code)
			fprintf(stderr, "blindsync: add the secret (or the uri) to an authenticator app; "
			    "two-factor login is not on until you confirm a code\n");
		if (!(code = get_code()))
			return BS_LOCAL;
		rc = bs_totp_confirm(c, code, print_code, NULL);
		drop(code);
		if (rc)
			return fail(c, rc);
		fprintf(stderr, "blindsync: two-factor login is on\n");
		return codes_done(NULL);
	}
	if (!(code = get_code())) {
		drop(pw);
		return BS_LOCAL;
	}
	if (strcmp(sub, "disable") == 0)
		rc = bs_totp_disable(c, pw, code);
	else {
		arr = json_out ? json_object_new_array() : NULL;
		rc = bs_recovery_codes(c, pw, code, print_code, arr);
	}
	drop(pw);
	drop(code);
	if (rc) {
		json_object_put(arr);
		return fail(c, rc);
	}
	if (sub[0] == 'c')
		return codes_done(arr);
	if (!json_out)
		fprintf(stderr, "blindsync: two-factor login is off\n");
	return BS_OK;
}

/* One line per sync of watch (stdout; JSON with --json); never stops. */
static int
report_watch(void *arg, const struct bs_sync_result *r)
{
	if (json_out)
		printf("{\"pushed\":%zu,\"pulled\":%zu,\"conflicts\":%zu,\"kept_server\":%zu}\n",
		    r->pushed, r->pulled, r->conflicts, r->kept_server);
	else
		printf("synced: %zu pushed, %zu pulled, %zu conflict(s)\n", r->pushed, r->pulled,
		    r->conflicts);
	fflush(stdout);
	return 0;
}

static void
print_member(void *arg, const struct bs_member *m)
{
	struct json_object *arr = arg;

	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "username", json_object_new_string(m->username));
		json_object_object_add(o, "role", json_object_new_string(m->role));
		json_object_object_add(o, "joined_at", json_object_new_string(m->joined_at ? m->joined_at : ""));
		json_object_array_add(arr, o);
		return;
	}
	printf("%s\t%s\t%s\n", m->username, m->role, m->joined_at ? m->joined_at : "");
}

static void
print_invitation(void *arg, const struct bs_invitation *i)
{
	struct json_object *arr = arg;

	if (arr) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(i->id));
		json_object_object_add(o, "name", i->name ? json_object_new_string(i->name) : NULL);
		json_object_object_add(o, "owner", json_object_new_string(i->owner ? i->owner : ""));
		json_object_object_add(o, "from", json_object_new_string(i->from ? i->from : ""));
		json_object_object_add(o, "from_fingerprint", json_object_new_string(i->from_fingerprint));
		json_object_object_add(o, "role", json_object_new_string(i->role ? i->role : ""));
		json_object_object_add(o, "key_version", json_object_new_int64(i->key_version));
		json_object_object_add(o, "expires_at", json_object_new_string(i->expires_at ? i->expires_at : ""));
		if (i->problem)
			json_object_object_add(o, "problem", json_object_new_string(i->problem));
		json_object_array_add(arr, o);
		return;
	}
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s%s%s\n", i->id, i->name ? i->name : "?", i->owner ? i->owner : "",
	    i->from ? i->from : "", i->role ? i->role : "", i->from_fingerprint[0] ? i->from_fingerprint : "?",
	    i->expires_at ? i->expires_at : "", i->problem ? "\t" : "", i->problem ? i->problem : "");
}

/* What accept did, on stderr (stdout with --json). */
static void
print_accepted(void *arg, const struct bs_invitation *i)
{
	(void)arg;
	if (json_out) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(i->name));
		json_object_object_add(o, "owner", json_object_new_string(i->owner));
		json_object_object_add(o, "role", json_object_new_string(i->role ? i->role : ""));
		flush_json(o);
		return;
	}
	fprintf(stderr, "blindsync: accepted %s of %s (%s): use --owner %s\n", i->name, i->owner,
	    i->role ? i->role : "", i->owner);
}

/* The sharing commands (client.md section 9). */
static int
cmd_share(struct bs_client *c, int argc, char **argv)
{
	const char *what = argv[0];
	char fp[BS_FINGERPRINT_LEN + 1], id[64];
	struct json_object *arr;
	int rc;

	if (strcmp(what, "keys") == 0 || strcmp(what, "trust") == 0) {
		if ((what[0] == 'k' && argc > 2) || (what[0] == 't' && argc != 2))
			return usage();
		rc = argc == 1 ? bs_keys(c, fp) : what[0] == 't' ? bs_trust(c, argv[1], fp) :
		    bs_user_keys(c, argv[1], fp);
		if (rc)
			return fail(c, rc);
		if (json_out) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "username", json_object_new_string(argc == 2 ? argv[1] :
			    bs_username(c)));
			json_object_object_add(o, "fingerprint", json_object_new_string(fp));
			flush_json(o);
		} else
			printf("%s\t%s\n", argc == 2 ? argv[1] : bs_username(c), fp);
		return BS_OK;
	}
	if (strcmp(what, "share") == 0) {
		if (argc != 3)
			return usage();
		if ((rc = bs_share(c, argv[1], argv[2], role_opt ? role_opt : "read", id)))
			return fail(c, rc);
		if (json_out) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "id", json_object_new_string(id));
			flush_json(o);
		} else {
			printf("%s\n", id);
			fprintf(stderr, "blindsync: invited %s to %s as %s (invitation %s)\n", argv[2], argv[1],
			    role_opt ? role_opt : "read", id);
		}
		return BS_OK;
	}
	if (strcmp(what, "invitations") == 0 || strcmp(what, "members") == 0) {
		if ((what[0] == 'i' && argc != 1) || (what[0] == 'm' && argc != 2))
			return usage();
		arr = json_out ? json_object_new_array() : NULL;
		rc = what[0] == 'i' ? bs_invitations(c, print_invitation, arr) :
		    bs_members(c, argv[1], print_member, arr, NULL);
		if (rc) {
			json_object_put(arr);
			return fail(c, rc);
		}
		flush_json(arr);
		return BS_OK;
	}
	if (strcmp(what, "accept") == 0 || strcmp(what, "decline") == 0) {
		if (argc != 2)
			return usage();
		rc = what[0] == 'a' ? bs_accept(c, argv[1], print_accepted, NULL) : bs_decline(c, argv[1]);
		return rc ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "role") == 0) {
		if (argc != 4)
			return usage();
		return (rc = bs_set_role(c, argv[1], argv[2], argv[3])) ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "unshare") == 0) {
		if (argc != 3)
			return usage();
		return (rc = bs_unshare(c, argv[1], argv[2])) ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "rotate") == 0 || strcmp(what, "leave") == 0) {
		if (argc != 2)
			return usage();
		rc = what[0] == 'r' ? bs_rotate(c, argv[1]) : bs_leave(c, argv[1]);
		return rc ? fail(c, rc) : BS_OK;
	}
	return -1;
}

static int
cmd(struct bs_client *c, int argc, char **argv, const char *device, const char *home)
{
	const char *what = argv[0];
	int rc = BS_OK;

	if (strcmp(what, "register") == 0 || strcmp(what, "login") == 0) {
		char *pw;
		if (argc != 2)
			return usage();
		if (!(pw = get_password("password: ", 1)))
			return BS_LOCAL;
		if (what[0] == 'r')
			rc = bs_register(c, argv[1], pw);
		else {
			if (!totp_code && can_prompt())
				bs_set_mfa_prompt(c, mfa_prompt, NULL);
			rc = bs_login_mfa(c, argv[1], pw, device, totp_code);
		}
		drop(pw);
		if (rc)
			return fail(c, rc);
		if (!json_out)
			fprintf(stderr, "blindsync: %s %s\n", what[0] == 'r' ? "registered" : "logged in as",
			    argv[1]);
		return BS_OK;
	}
	if (strcmp(what, "logout") == 0)
		return argc != 1 ? usage() : (rc = bs_logout(c)) ? fail(c, rc) : BS_OK;
	if (strcmp(what, "whoami") == 0) {
		if (argc != 1)
			return usage();
		if (!bs_username(c)) {
			fprintf(stderr, "blindsync: not logged in\n");
			return BS_LOCAL;
		}
		if (json_out) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "username", json_object_new_string(bs_username(c)));
			json_object_object_add(o, "server", json_object_new_string(bs_server(c) ? bs_server(c) : ""));
			flush_json(o);
		} else
			printf("%s\t%s\n", bs_username(c), bs_server(c) ? bs_server(c) : "");
		return BS_OK;
	}
	if (strcmp(what, "passwd") == 0) {
		char *old, *nw;
		if (argc != 1)
			return usage();
		if (!(old = get_password("current password: ", 1)))
			return BS_LOCAL;
		if (!(nw = get_password("new password: ", 2))) {
			drop(old);
			return BS_LOCAL;
		}
		rc = bs_change_password(c, old, nw);
		drop(old);
		drop(nw);
		return rc ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "devices") == 0) {
		if (argc == 3 && strcmp(argv[1], "revoke") == 0)
			return (rc = bs_device_revoke(c, argv[2])) ? fail(c, rc) : BS_OK;
		if (argc != 1)
			return usage();
		struct json_object *arr = json_out ? json_object_new_array() : NULL;
		if ((rc = bs_devices(c, print_device, arr))) {
			json_object_put(arr);
			return fail(c, rc);
		}
		flush_json(arr);
		return BS_OK;
	}
	if (strcmp(what, "put") == 0 || strcmp(what, "rm") == 0) {
		uint8_t *data = NULL;
		size_t n = 0;
		if ((what[0] == 'p' && argc != 3 && argc != 4) || (what[0] == 'r' && argc != 3))
			return usage();
		if (what[0] == 'p') {
			if ((rc = read_input(argc == 4 ? argv[3] : "-", &data, &n)))
				return rc;
			rc = bs_put(c, argv[1], argv[2], data, n);
			bs_free(data, n);
		} else
			rc = bs_delete(c, argv[1], argv[2]);
		if (rc == BS_OK)
			rc = bs_push_one(c, argv[1], argv[2]);
		return rc ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "get") == 0) {
		const char *one[1];
		uint8_t *data = NULL;
		size_t n = 0;
		if (argc != 3 && argc != 4)
			return usage();
		one[0] = argv[1];
		if ((rc = bs_sync(c, one, 1, NULL)))
			return fail(c, rc);
		if ((rc = bs_get(c, argv[1], argv[2], &data, &n)))
			return fail(c, rc);
		rc = write_output(argc == 4 ? argv[3] : "-", data, n);
		bs_free(data, n);
		return rc;
	}
	if (strcmp(what, "ls") == 0) {
		struct bs_sync_result r;
		struct json_object *arr;
		const char *one[1];
		if (argc > 2)
			return usage();
		one[0] = argc == 2 ? argv[1] : NULL;
		if ((rc = bs_sync(c, one, argc == 2 ? 1 : 0, &r)))
			return fail(c, rc);
		arr = json_out ? json_object_new_array() : NULL;
		rc = argc == 2 ? bs_list(c, argv[1], print_name, arr) : bs_collections(c, print_name, arr);
		/* then, without --owner, the collections shared with this account */
		if (rc == BS_OK && argc == 1 && !owner_opt)
			rc = bs_shared(c, print_shared, arr);
		if (rc) {
			json_object_put(arr);
			return fail(c, rc);
		}
		flush_json(arr);
		return BS_OK;
	}
	if (strcmp(what, "history") == 0) {
		struct json_object *arr;
		if (argc != 3)
			return usage();
		arr = json_out ? json_object_new_array() : NULL;
		if ((rc = bs_history(c, argv[1], argv[2], print_version, arr))) {
			json_object_put(arr);
			return fail(c, rc);
		}
		flush_json(arr);
		return BS_OK;
	}
	if (strcmp(what, "sync") == 0) {
		struct bs_sync_result r;
		if (isatty(STDERR_FILENO) && !json_out)
			bs_set_sync_progress(c, sync_progress, NULL);
		rc = bs_sync(c, (const char *const *)argv + 1, (size_t)argc - 1, &r);
		sync_progress_end();
		if (rc)
			return fail(c, rc);
		return report_sync(c, &r);
	}
	if (strcmp(what, "export") == 0) {
		if (argc != 2)
			return usage();
		return (rc = bs_export(c, argv[1])) ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "import") == 0) {
		char *pw, *old;
		const char *f = password_file ? password_file : getenv("BLINDSYNC_PASSWORD_FILE");
		if (argc != 2)
			return usage();
		if (!(pw = get_password("password: ", 1)))
			return BS_LOCAL;
		/* the exported account's password: line 2, or the same when there is none */
		quiet_missing = 1;
		old = f && *f ? password_from_file(f, 2) :
		    password_from_tty("password of the exported account (empty: the same): ");
		quiet_missing = 0;
		if (old && !*old) {
			drop(old);
			old = NULL;
		}
		rc = bs_import(c, argv[1], pw, old ? old : pw);
		drop(pw);
		drop(old);
		return rc ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "watch") == 0) {
		const char *w = getenv("BLINDSYNC_WATCH_WAIT");
		rc = bs_watch(c, (const char *const *)argv + 1, (size_t)argc - 1, w ? atoi(w) : 30,
		    report_watch, c);
		return rc ? fail(c, rc) : BS_OK;
	}
	if (strcmp(what, "conflicts") == 0) {
		struct json_object *arr;
		int clear = argc == 2 && strcmp(argv[1], "--clear") == 0;
		if (argc > 2 || (argc == 2 && !clear))
			return usage();
		arr = json_out ? json_object_new_array() : NULL;
		if ((rc = bs_conflicts(c, print_conflict, arr, clear))) {
			json_object_put(arr);
			return fail(c, rc);
		}
		flush_json(arr);
		return BS_OK;
	}
	if (strcmp(what, "backup") == 0 || strcmp(what, "slot") == 0)
		return cmd_blob(c, argc, argv, home);
	if (strcmp(what, "recovery-key") == 0 || strcmp(what, "recover") == 0)
		return cmd_recovery(c, argc, argv, device);
	if (strcmp(what, "2fa") == 0)
		return cmd_2fa(c, argc, argv);
	if ((rc = cmd_share(c, argc, argv)) >= 0)
		return rc;
	fprintf(stderr, "blindsync: unknown command %s\n", what);
	return usage();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'},
		{"home", required_argument, NULL, 'H'},
		{"json", no_argument, NULL, 'j'},
		{"password-file", required_argument, NULL, 'p'},
		{"device", required_argument, NULL, 'd'},
		{"app", required_argument, NULL, 'a'},
		{"totp", required_argument, NULL, 't'},
		{"owner", required_argument, NULL, 'o'},
		{"role", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *server = getenv("BLINDSYNC_SERVER"), *home = getenv("BLINDSYNC_HOME");
	const char *device = NULL;
	char *deflt = NULL;
	struct bs_client *c = NULL;
	int o, rc;

	/* options first: "--" ends them so that "put C ID -" keeps its "-" */
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'H': home = optarg; break;
		case 'j': json_out = 1; break;
		case 'p': password_file = optarg; break;
		case 'd': device = optarg; break;
		case 'a': app_name = optarg; break;
		case 't': totp_code = optarg; break;
		case 'o': owner_opt = optarg; break;
		case 'r': role_opt = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return usage();
		}
	}
	argc -= optind;
	argv += optind;
	/* options after the command: login USER [--device NAME] [--totp CODE], 2fa ... --totp CODE */
	while (argc >= 3 && argv[0][0] != '-' && (strcmp(argv[argc - 2], "--device") == 0 ||
	    strcmp(argv[argc - 2], "--totp") == 0) && (strcmp(argv[0], "login") == 0 ||
	    strcmp(argv[0], "recover") == 0 || strcmp(argv[0], "2fa") == 0)) {
		if (argv[argc - 2][2] == 'd')
			device = argv[argc - 1];
		else
			totp_code = argv[argc - 1];
		argc -= 2;
	}
	/* --owner O and --role R may follow the command anywhere (before a "--") */
	for (int i = 1; i + 1 < argc;) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--owner") == 0 || strcmp(argv[i], "--role") == 0) {
			if (argv[i][2] == 'o')
				owner_opt = argv[i + 1];
			else
				role_opt = argv[i + 1];
			memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) * sizeof *argv);
			argc -= 2;
			continue;
		}
		i++;
	}
	if (!totp_code) {
		totp_code = getenv("BLINDSYNC_TOTP");
		if (totp_code && !*totp_code)
			totp_code = NULL;
	}
	if (argc < 1)
		return usage();
	if (server && !*server)
		server = NULL;
	if (!home || !*home) {
		const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
		if (x && *x)
			rc = asprintf(&deflt, "%s/blindsync", x);
		else if (h && *h) {
			char *parent = NULL;
			/* ~/.config may not exist yet on a fresh account */
			if (asprintf(&parent, "%s/.config", h) >= 0) {
				(void)mkdir(parent, 0700);
				free(parent);
			}
			rc = asprintf(&deflt, "%s/.config/blindsync", h);
		}
		else {
			fprintf(stderr, "blindsync: no home directory: give --home DIR\n");
			return BS_LOCAL;
		}
		if (rc < 0)
			return BS_LOCAL;
		home = deflt;
	}
	if ((rc = bs_open(home, server, &c)) != BS_OK)
		rc = fail(c, rc);
	else if (owner_opt && (rc = bs_use_owner(c, owner_opt)) != BS_OK)
		rc = fail(c, rc);
	else
		rc = cmd(c, argc, argv, device, home);
	bs_close(c);
	free(deflt);
	return rc;
}
