/*
 * config.h: the Lua configuration file as a typed, validated C struct.
 *
 * config_load() evaluates the file of ../shared/spec/config.md (and
 * docs/CONFIG.md) once, in a sandboxed Lua state (safe base + string + table
 * + math libraries only, text chunks only, an instruction limit), copies every
 * value into `struct config` with type and range checks, and closes Lua. No
 * Lua runs while requests are served. An unknown key, a wrong type, a value
 * out of range or a Lua error refuses the whole file with a message naming
 * the key and "file:line".
 *
 * Handlers serve from an immutable snapshot: config_acquire() returns the
 * current one with a reference held, config_release() drops it. A reload
 * (SIGHUP, or config_reload_if_changed() seeing a new mtime) swaps in a new
 * snapshot only if it validates; requests in flight keep the old one.
 */
#ifndef BLINDSYNC_CONFIG_H
#define BLINDSYNC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_NAME_MAX 64          /* plan names, route names */
#define CONFIG_MAX_PLANS 32
#define CONFIG_MAX_RATE_RULES 64
#define CONFIG_MAX_PROXIES 32
#define CONFIG_MAX_ORIGINS 32
#define CONFIG_MAX_ALLOW 32
#define CONFIG_ADDR_MAX 64          /* an IPv4/IPv6 address or CIDR as text */
#define CONFIG_ORIGIN_MAX 256
#define CONFIG_KDF_JSON_MAX 1024    /* prelogin_fake_kdf serialised as JSON */

enum registration { REG_OPEN, REG_INVITE, REG_CLOSED };
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum rate_per { PER_IP, PER_ACCOUNT, PER_USERNAME };

struct plan {
	char name[CONFIG_NAME_MAX];
	int64_t bytes;            /* account byte quota */
	int64_t collections;      /* max collections */
	int64_t backups;          /* max backup slots */
	int64_t backup_bytes;     /* max size of one backup */
	int64_t min_backup_bytes; /* min size of one backup or slot body */
	int64_t history_depth;    /* older versions kept per record */
};

struct rate_rule {
	char route[CONFIG_NAME_MAX]; /* "account.login", "account.*", "*", ... */
	enum rate_per per;
	int64_t limit;               /* requests ... */
	int64_t window;              /* ... per this many seconds */
};

struct config {
	char path[4096];          /* the file it came from ("" = built-in defaults) */
	time_t mtime;             /* the file's mtime when loaded */

	char database[4096];      /* resolved as given (relative to the cwd) */
	char secret_file[4096];
	enum registration registration;
	char trusted_proxies[CONFIG_MAX_PROXIES][CONFIG_ADDR_MAX];
	int n_trusted_proxies;
	int require_https;

	struct {
		int64_t access_ttl;   /* seconds */
		int64_t refresh_ttl;
	} tokens;
	struct {
		int64_t iterations;
	} password_hash;
	/* prelogin_fake_kdf: the template table serialised as compact JSON
	 * (keys sorted), e.g. {"alg":"pbkdf2-sha256","iterations":600000};
	 * the account module adds "salt". Values may be strings, integers or
	 * booleans only. */
	char prelogin_fake_kdf_json[CONFIG_KDF_JSON_MAX];

	struct {
		int64_t max_body_bytes;
		int64_t max_record_bytes;
		int64_t max_push_records;
		int64_t max_pull_records;
		int64_t max_wait_seconds;
		int64_t max_import_bytes;
		int64_t upload_idle_seconds;   /* a streamed body with no byte for this long ends */
		int64_t upload_min_rate;       /* bytes/s a streamed body must average after that; 0: none */
		int64_t max_uploads_per_ip;    /* streamed bodies in progress (over a second) per address */
		int64_t max_uploads_per_account;
	} limits;

	struct plan plans[CONFIG_MAX_PLANS]; /* plans[0] is always "default" */
	int n_plans;

	struct rate_rule rate_limits[CONFIG_MAX_RATE_RULES];
	int n_rate_limits;

	struct {
		char issuer[CONFIG_NAME_MAX];  /* the otpauth URI's issuer: what an authenticator app shows */
		int64_t lockout_seconds;       /* codes refused for this long after MFA_FAILS_MAX wrong ones */
	} mfa;
	struct {
		int64_t keep_days;
	} tombstones;
	struct {
		int enabled;
		int64_t max_bytes;
		int64_t expire_days;
	} slots;
	struct {
		char origins[CONFIG_MAX_ORIGINS][CONFIG_ORIGIN_MAX];
		int n_origins;
	} cors;
	struct {
		enum log_level level;
	} log;
	struct {
		char allow[CONFIG_MAX_ALLOW][CONFIG_ADDR_MAX];
		int n_allow;
	} metrics;
	struct {
		int enabled;              /* /v1/info says "live": true; run.sh and systemd start blindsync-live */
		char socket[1024];        /* the unix socket blindsync-live listens on (--listen overrides) */
		int64_t port;             /* also a TCP port on 127.0.0.1; 0: none */
		int64_t max_per_account;  /* sockets of one account at once */
		int64_t max_total;        /* sockets at once */
		int64_t ping_seconds;     /* a ping to every socket this often */
	} live;
	struct {
		int64_t max_members;              /* members per collection, the owner not counted */
		int64_t max_pending_invitations;  /* pending invitations an account has out */
		int64_t invitation_days;          /* an invitation's life; 0: expires at once (tests) */
	} sharing;
};

/*
 * Fill `c` with the built-in defaults of config.md (the values a config with
 * no keys at all gets). Never fails.
 */
void config_defaults(struct config *c);

/*
 * Load and validate the Lua file at `path` into `c` (defaults first, then the
 * file merged over them as config.md says). On failure returns -1 and writes
 * one line such as
 *   "blindsync.lua:12: limits.max_push_records: expected an integer from 1 to 100000, got string"
 * into `errbuf` (always NUL-terminated); `c` is then unspecified. Returns 0
 * on success. Never calls exit().
 */
int config_load(const char *path, struct config *c, char *errbuf, size_t errlen);

/*
 * The path to use: $BLINDSYNC_CONFIG if set and non-empty, else the
 * compiled-in default (BLINDSYNC_DEFAULT_CONFIG, e.g.
 * /etc/blindsync/blindsync.lua). Returns NULL when neither exists on disk
 * and BLINDSYNC_CONFIG is unset: built-in defaults then apply.
 */
const char *config_path(void);

/*
 * Print the effective config `c` as Lua to `fp` (used by `-n` and
 * `blindsync-admin config check`). Returns 0, or -1 on a write error.
 */
#include <stdio.h>
int config_print(const struct config *c, FILE *fp);

/* The plan called `name`, or NULL. */
const struct plan *config_plan(const struct config *c, const char *name);

/*
 * Process-wide current snapshot, for multi-threaded handlers.
 * config_init() loads the file (or defaults when path is NULL) and makes it
 * current; returns -1 with errbuf filled on failure (the caller exits).
 * config_acquire() returns the current snapshot with a reference held; it is
 * never NULL after a successful config_init(). config_release() drops the
 * reference (NULL is fine). config_reload() loads the file again and swaps
 * it in if valid; on failure it keeps the old one, fills errbuf and returns -1.
 * config_reload_if_changed() calls config_reload() when the file's mtime
 * differs (stat at most once a second); returns 1 if it reloaded, 0 if not,
 * -1 on a failed reload. All four are thread-safe.
 */
int config_init(const char *path, char *errbuf, size_t errlen);
const struct config *config_acquire(void);
void config_release(const struct config *c);
int config_reload(char *errbuf, size_t errlen);
int config_reload_if_changed(char *errbuf, size_t errlen);
/* Drop the current snapshot at exit (for leak checkers). */
void config_shutdown(void);

/* Names for enums, for printing and logs. */
const char *config_registration_name(enum registration r);
const char *config_log_level_name(enum log_level l);
const char *config_per_name(enum rate_per p);

#endif
