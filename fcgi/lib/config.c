/*
 * config.c: the Lua configuration file as a typed, validated struct config:
 * the API, the names, the built-in defaults, the field tables and the checks
 * that copy each value into the struct.
 *
 * config_load() (config_lua.c) reads the file into memory, evaluates it once
 * in a sandboxed Lua state, then walks what it set through the field tables
 * below, copying every value into `struct config` with type and range
 * checks, and closes the state before it returns. The rules the file must
 * follow are in docs/CONFIG.md; the keys and defaults in
 * ../shared/spec/config.md. An error names "file:line: key.path"; the line
 * of a nested key comes from config_lex.c. config_print.c prints a config
 * back as Lua; config_snap.c hands the result to threaded handlers under a
 * reference count. What these files share is in config_impl.h.
 *
 * This file must never: fall back to defaults when a value is bad, store a
 * value it has not checked, or exit/abort on anything the file contains. Lua
 * errors unwind with longjmp, so no C allocation may be held across a Lua
 * API call that can raise one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "buf.h"
#include "config.h"
#include "config_impl.h"
#include "json.h"
#include "routes.h"

#ifndef BLINDSYNC_DEFAULT_CONFIG
#define BLINDSYNC_DEFAULT_CONFIG "/etc/blindsync/blindsync.lua"
#endif

/* a backup or slot is one SQLite blob: at most SQLITE_MAX_LENGTH bytes */
#define BLOB_MAX 1000000000LL

#define LOAD_KDF_KEYS 64                       /* keys of prelogin_fake_kdf */
#define JSON_SAFE_INT 9007199254740991LL       /* 2^53 - 1 */

/* ---------------------------------------------------------------------- */
/* names */

static const char *const reg_names[] = { "open", "invite", "closed" };
static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const per_names[] = { "ip", "account", "username" };
_Static_assert(NELEM(reg_names) == REG_CLOSED + 1, "reg_names");
_Static_assert(NELEM(level_names) == LOG_DEBUG + 1, "level_names");
_Static_assert(NELEM(per_names) == PER_USERNAME + 1, "per_names");
/* enums are stored through an int (see cfg_check_field(), F_ENUM) */
_Static_assert(sizeof(enum registration) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rate_per) == sizeof(int), "enum size");

/* Route names a rate limit may name (config.md): routes.h, the one list. */

static const char *const lua_keywords[] = {
	"and", "break", "do", "else", "elseif", "end", "false", "for",
	"function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
	"return", "then", "true", "until", "while",
};

/* names[v] of a table of n names, or "?" for a v outside it. */
const char *
cfg_name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "?";
}

/*
 * Returns the name of registration mode `r` ("open", "invite", "closed"),
 * or "?" for a value outside the enum. The string is static.
 */
const char *
config_registration_name(enum registration r)
{
	return cfg_name_of(reg_names, NELEM(reg_names), (int)r);
}

/*
 * Returns the name of log level `l` ("error" ... "debug"), or "?".
 * The string is static.
 */
const char *
config_log_level_name(enum log_level l)
{
	return cfg_name_of(level_names, NELEM(level_names), (int)l);
}

/*
 * Returns the name of rate-limit key `p` ("ip", "account", "username"),
 * or "?". The string is static.
 */
const char *
config_per_name(enum rate_per p)
{
	return cfg_name_of(per_names, NELEM(per_names), (int)p);
}

/* ---------------------------------------------------------------------- */
/* defaults */

/* Copies src into dst (size bytes), truncated and NUL-terminated. */
void
cfg_copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/*
 * Fills `c` with the built-in defaults of config.md: what a config file that
 * sets nothing yields. Never fails; `c` needs no prior initialisation.
 */
void
config_defaults(struct config *c)
{
	static const struct rate_rule rules[] = {
		{ "account.register", PER_IP, 5, 3600 },
		{ "account.login", PER_IP, 10, 60 },
		{ "account.login", PER_USERNAME, 10, 600 },
		{ "account.recover", PER_IP, 10, 60 },
		{ "account.recover", PER_USERNAME, 10, 600 },
		{ "slots.create", PER_IP, 3, 86400 },
		{ "live.connect", PER_IP, 60, 60 },
		{ "users.keys", PER_ACCOUNT, 60, 60 },
		{ "*", PER_ACCOUNT, 600, 60 },
	};
	_Static_assert(NELEM(rules) <= CONFIG_MAX_RATE_RULES, "rules");
	size_t i;

	memset(c, 0, sizeof *c);
	cfg_copy_str(c->database, sizeof c->database, "var/blindsync.db");
	cfg_copy_str(c->secret_file, sizeof c->secret_file, "var/secret");
	c->registration = REG_OPEN;
	c->n_trusted_proxies = 0;
	c->require_https = 1;

	c->tokens.access_ttl = 900;
	c->tokens.refresh_ttl = 30 * 86400;
	c->password_hash.iterations = 100000;
	cfg_copy_str(c->prelogin_fake_kdf_json, sizeof c->prelogin_fake_kdf_json,
	    "{\"alg\":\"argon2id\",\"m\":65536,\"p\":1,\"suite\":\"bs1\",\"t\":3}");

	c->limits.max_body_bytes = 8 * MIB;
	c->limits.max_record_bytes = 256 * KIB;
	c->limits.max_push_records = 1000;
	c->limits.max_pull_records = 1000;
	c->limits.max_wait_seconds = 60;
	c->limits.max_import_bytes = 1 * GIB;
	c->limits.upload_idle_seconds = 20;
	c->limits.upload_min_rate = 1 * KIB;
	c->limits.max_uploads_per_ip = 2;
	c->limits.max_uploads_per_account = 2;

	cfg_copy_str(c->plans[0].name, sizeof c->plans[0].name, "default");
	c->plans[0].bytes = 10 * MIB;
	c->plans[0].collections = 100;
	c->plans[0].backups = 1;
	c->plans[0].backup_bytes = 2 * MIB;
	c->plans[0].min_backup_bytes = 32;
	c->plans[0].history_depth = 10;
	c->n_plans = 1;

	for (i = 0; i < NELEM(rules); i++)
		c->rate_limits[i] = rules[i];
	c->n_rate_limits = (int)NELEM(rules);

	cfg_copy_str(c->mfa.issuer, sizeof c->mfa.issuer, "blindsync");
	c->mfa.lockout_seconds = 900;
	c->tombstones.keep_days = 90;
	c->slots.enabled = 0;
	c->slots.max_bytes = 1 * MIB;
	c->slots.expire_days = 365;
	c->cors.n_origins = 0;
	c->log.level = LOG_INFO;
	cfg_copy_str(c->metrics.allow[0], sizeof c->metrics.allow[0], "127.0.0.1");
	cfg_copy_str(c->metrics.allow[1], sizeof c->metrics.allow[1], "::1");
	c->metrics.n_allow = 2;
	c->live.enabled = 1;
	cfg_copy_str(c->live.socket, sizeof c->live.socket, "/run/blindsync-live/live.sock");
	c->live.port = 0;
	c->live.max_per_account = 20;
	c->live.max_total = 10000;
	c->live.ping_seconds = 25;
	c->sharing.max_members = 100;
	c->sharing.max_pending_invitations = 50;
	c->sharing.invitation_days = 7;
}

/* ---------------------------------------------------------------------- */
/* small helpers */

/* Is s a Lua name and not a keyword, so that it prints as a bare key? */
int
cfg_is_lua_name(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	    s[0] == '_'))
		return 0;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	for (i = 0; i < NELEM(lua_keywords); i++)
		if (strcmp(s, lua_keywords[i]) == 0)
			return 0;
	return 1;
}

/* Appends printf output to buf (size n), tracking *used; truncates. */
void
cfg_appendf(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*used >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *used, n - *used, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	*used += (size_t)w;
	if (*used >= n)
		*used = n - 1;
}

/* Writes `s` (len bytes) quoted for a message: "abc", at most `max` bytes. */
static void
quote(char *buf, size_t n, const char *s, size_t len, size_t max)
{
	size_t used = 0, i;

	buf[0] = '\0';
	cfg_appendf(buf, n, &used, "\"");
	for (i = 0; i < len && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			cfg_appendf(buf, n, &used, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			cfg_appendf(buf, n, &used, "\\%03u", ch);
		else
			cfg_appendf(buf, n, &used, "%c", ch);
	}
	cfg_appendf(buf, n, &used, "%s", len > max ? "...\"" : "\"");
}

/* Describes the Lua value at idx for a message: nil, true, 12, "x", a table. */
static void
describe(lua_State *L, int idx, char *buf, size_t n)
{
	size_t len;
	const char *s;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		snprintf(buf, n, "nil");
		break;
	case LUA_TBOOLEAN:
		snprintf(buf, n, "%s", lua_toboolean(L, idx) ? "true" : "false");
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			snprintf(buf, n, "%lld", (long long)lua_tointeger(L, idx));
		else
			snprintf(buf, n, "%.14g", (double)lua_tonumber(L, idx));
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		quote(buf, n, s, len, 40);
		break;
	default:
		snprintf(buf, n, "a %s", luaL_typename(L, idx));
		break;
	}
}

/* Replaces control bytes so that a message is exactly one line. */
void
cfg_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/*
 * The integer at idx: a Lua integer, or a float with an exact integer value
 * in range (1.5 * GiB is a float). Returns 0, or -1 if it is neither.
 */
static int
to_int64(lua_State *L, int idx, int64_t *out)
{
	double d;

	if (lua_type(L, idx) != LUA_TNUMBER)
		return -1;
	if (lua_isinteger(L, idx)) {
		*out = (int64_t)lua_tointeger(L, idx);
		return 0;
	}
	d = (double)lua_tonumber(L, idx);
	if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
	    d >= 9223372036854775808.0)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static int
valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (len - i <= need)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* An IPv4 or IPv6 literal, optionally with "/prefix" (0-32 or 0-128). */
static int
valid_addr(const char *s, size_t len)
{
	char host[CONFIG_ADDR_MAX];
	unsigned char bin[16];
	const char *slash;
	size_t hl;
	int v6, prefix = -1;

	if (len == 0 || len >= CONFIG_ADDR_MAX || memchr(s, '\0', len))
		return 0;
	slash = memchr(s, '/', len);
	hl = slash ? (size_t)(slash - s) : len;
	memcpy(host, s, hl);
	host[hl] = '\0';
	v6 = strchr(host, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) != 1)
		return 0;
	if (slash) {
		const char *p = slash + 1, *end = s + len;
		if (p == end || end - p > 3)
			return 0;
		prefix = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return 0;
			prefix = prefix * 10 + (*p - '0');
		}
		if (prefix > (v6 ? 128 : 32))
			return 0;
	}
	return 1;
}

/*
 * "*", or an origin as browsers send it: http:// or https://, a lower-case
 * host name, IPv4 or [IPv6] literal, an optional :port, and no path.
 */
static int
valid_origin(const char *s, size_t len)
{
	size_t i, start;

	if (len == 1 && s[0] == '*')
		return 1;
	if (len >= CONFIG_ORIGIN_MAX || memchr(s, '\0', len))
		return 0;
	if (len > 7 && memcmp(s, "http://", 7) == 0)
		i = 7;
	else if (len > 8 && memcmp(s, "https://", 8) == 0)
		i = 8;
	else
		return 0;
	start = i;
	if (s[i] == '[') {
		for (i++; i < len && s[i] != ']'; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			    s[i] == ':' || s[i] == '.'))
				return 0;
		if (i >= len || i == start + 1)
			return 0;
		i++;
	} else {
		for (; i < len && s[i] != ':'; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			    s[i] == '.' || s[i] == '-'))
				return 0;
		if (i == start)
			return 0;
	}
	if (i < len) {
		long port = 0;
		size_t digits = 0;
		if (s[i] != ':')
			return 0;
		for (i++; i < len; i++, digits++) {
			if (s[i] < '0' || s[i] > '9' || digits >= 5)
				return 0;
			port = port * 10 + (s[i] - '0');
		}
		if (digits == 0 || port < 1 || port > 65535)
			return 0;
	}
	return 1;
}

/* 1 to 63 bytes of letters, digits, '_', '-', '.', starting alphanumeric. */
static int
valid_plan_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= CONFIG_NAME_MAX)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		    s[i] == '.'))
			return 0;
	return 1;
}

/* ---------------------------------------------------------------------- */
/* key paths and error messages */

/* Pushes `name` (borrowed until popped) as the next key path part. */
void
cfg_part_name(struct ld *ld, const char *name)
{
	if (ld->nparts < MAX_PARTS) {
		ld->parts[ld->nparts].kind = P_NAME;
		ld->parts[ld->nparts].name = name;
	}
	ld->nparts++;
}

static void
part_index(struct ld *ld, lua_Integer index)
{
	if (ld->nparts < MAX_PARTS) {
		ld->parts[ld->nparts].kind = P_INDEX;
		ld->parts[ld->nparts].index = index;
	}
	ld->nparts++;
}

/* Pushes the table key at stack index idx as a path part. */
void
cfg_part_key(struct ld *ld, int idx)
{
	lua_State *L = ld->L;

	if (lua_type(L, idx) == LUA_TSTRING)
		cfg_part_name(ld, lua_tostring(L, idx));
	else if (lua_isinteger(L, idx))
		part_index(ld, lua_tointeger(L, idx));
	else {
		if (ld->nparts < MAX_PARTS)
			ld->parts[ld->nparts].kind = P_OTHER;
		ld->nparts++;
	}
}

static void
part_pop(struct ld *ld)
{
	if (ld->nparts > 0)
		ld->nparts--;
}

/* The key path as text: limits.max_push_records, rate_limits[2].route. */
static void
fmt_path(const struct ld *ld, char *buf, size_t n)
{
	size_t used = 0;
	int i, np = ld->nparts < MAX_PARTS ? ld->nparts : MAX_PARTS;

	buf[0] = '\0';
	for (i = 0; i < np; i++) {
		const struct part *p = &ld->parts[i];
		char q[96];
		switch (p->kind) {
		case P_NAME:
			if (i == 0 || cfg_is_lua_name(p->name))
				cfg_appendf(buf, n, &used, "%s%s", i ? "." : "", p->name);
			else {
				quote(q, sizeof q, p->name, strlen(p->name), 64);
				cfg_appendf(buf, n, &used, "[%s]", q);
			}
			break;
		case P_INDEX:
			cfg_appendf(buf, n, &used, "[%lld]", (long long)p->index);
			break;
		case P_OTHER:
			cfg_appendf(buf, n, &used, "[?]");
			break;
		}
	}
}

/* "FILE:LINE: " or "FILE: " into ld->err; returns the bytes written. */
static size_t
err_where(struct ld *ld)
{
	size_t used = 0;
	int line = cfg_locate(ld);

	if (line > 0)
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s:%d: ", ld->path, line);
	else
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: ", ld->path);
	return used;
}

/*
 * Fails the load with "FILE:LINE: KEY.PATH: <message>" about the current key
 * path. If got_idx is non-zero, ", got <value at got_idx>" is appended.
 * Returns -1.
 */
static int
fail_at(struct ld *ld, int got_idx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail_at(struct ld *ld, int got_idx, const char *fmt, ...)
{
	char path[256], msg[800], got[128];
	size_t used;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fmt_path(ld, path, sizeof path);
	used = err_where(ld);
	cfg_appendf(ld->err, sizeof ld->err, &used, "%s: %s", path, msg);
	if (got_idx) {
		describe(ld->L, got_idx, got, sizeof got);
		cfg_appendf(ld->err, sizeof ld->err, &used, ", got %s", got);
	}
	ld->failed = 1;
	return -1;
}

/* Fails with "FILE:LINE: unknown key 'KEY.PATH'". Returns -1. */
int
cfg_fail_unknown(struct ld *ld)
{
	char path[256];
	size_t used;

	fmt_path(ld, path, sizeof path);
	used = err_where(ld);
	cfg_appendf(ld->err, sizeof ld->err, &used, "unknown key '%s'", path);
	ld->failed = 1;
	return -1;
}

/* ---------------------------------------------------------------------- */
/* field tables: what each key is, where it goes, how it prints */

#define COFF(m) offsetof(struct config, m)
#define PLOFF(m) offsetof(struct plan, m)
#define RROFF(m) offsetof(struct rate_rule, m)

static int post_limits(struct ld *, void *, unsigned);
static int post_plan(struct ld *, void *, unsigned);
static int check_kdf(struct ld *);
static int check_plans(struct ld *);
static int check_rate_limits(struct ld *);

static const struct field tokens_fields[] = {
	{ .name = "access_ttl", .type = F_INT, .off = COFF(tokens.access_ttl),
	  .min = 60, .max = 86400 },
	{ .name = "refresh_ttl", .type = F_INT, .off = COFF(tokens.refresh_ttl),
	  .min = 300, .max = 365 * 86400LL },
};

static const struct field password_hash_fields[] = {
	{ .name = "iterations", .type = F_INT, .off = COFF(password_hash.iterations),
	  .min = 1000, .max = 10000000 },
};

enum { LIM_BODY, LIM_RECORD };   /* indexes into limits_fields[] */
static const struct field limits_fields[] = {
	[LIM_BODY] = { .name = "max_body_bytes", .type = F_INT,
	  .off = COFF(limits.max_body_bytes), .min = 1 * KIB, .max = 1 * GIB, .size = 1 },
	[LIM_RECORD] = { .name = "max_record_bytes", .type = F_INT,
	  .off = COFF(limits.max_record_bytes), .min = 1, .max = 1 * GIB, .size = 1 },
	{ .name = "max_push_records", .type = F_INT,
	  .off = COFF(limits.max_push_records), .min = 1, .max = 100000 },
	{ .name = "max_pull_records", .type = F_INT,
	  .off = COFF(limits.max_pull_records), .min = 1, .max = 100000 },
	{ .name = "max_wait_seconds", .type = F_INT,
	  .off = COFF(limits.max_wait_seconds), .min = 0, .max = 3600 },
	{ .name = "max_import_bytes", .type = F_INT,
	  .off = COFF(limits.max_import_bytes), .min = 1 * KIB, .max = 64 * GIB, .size = 1 },
	{ .name = "upload_idle_seconds", .type = F_INT,
	  .off = COFF(limits.upload_idle_seconds), .min = 1, .max = 3600 },
	{ .name = "upload_min_rate", .type = F_INT,
	  .off = COFF(limits.upload_min_rate), .min = 0, .max = 1 * GIB, .size = 1 },
	{ .name = "max_uploads_per_ip", .type = F_INT,
	  .off = COFF(limits.max_uploads_per_ip), .min = 1, .max = 256 },
	{ .name = "max_uploads_per_account", .type = F_INT,
	  .off = COFF(limits.max_uploads_per_account), .min = 1, .max = 256 },
};

enum { PL_BACKUP_BYTES = 3, PL_MIN_BACKUP_BYTES = 4 };  /* indexes into cfg_plan_fields[] */
const struct field cfg_plan_fields[] = {
	{ .name = "bytes", .type = F_INT, .off = PLOFF(bytes),
	  .min = 0, .max = 1LL << 50, .size = 1 },
	{ .name = "collections", .type = F_INT, .off = PLOFF(collections),
	  .min = 1, .max = 1000000 },
	{ .name = "backups", .type = F_INT, .off = PLOFF(backups),
	  .min = 0, .max = 1000 },
	[PL_BACKUP_BYTES] = { .name = "backup_bytes", .type = F_INT,
	  .off = PLOFF(backup_bytes), .min = 1, .max = BLOB_MAX, .size = 1 },
	[PL_MIN_BACKUP_BYTES] = { .name = "min_backup_bytes", .type = F_INT,
	  .off = PLOFF(min_backup_bytes), .min = 0, .max = BLOB_MAX, .size = 1 },
	{ .name = "history_depth", .type = F_INT, .off = PLOFF(history_depth),
	  .min = 0, .max = 1000 },
};

const struct field cfg_rule_fields[] = {
	{ .name = "route", .type = F_NAME, .off = RROFF(route),
	  .names = routes_names, .nnames = RN__RATE },
	{ .name = "per", .type = F_ENUM, .off = RROFF(per),
	  .names = per_names, .nnames = NELEM(per_names) },
	{ .name = "limit", .type = F_INT, .off = RROFF(limit),
	  .min = 1, .max = 1000000000 },
	{ .name = "window", .type = F_INT, .off = RROFF(window),
	  .min = 1, .max = 31 * 86400LL },
};

static const struct field mfa_fields[] = {
	{ .name = "issuer", .type = F_STR, .off = COFF(mfa.issuer),
	  .max = sizeof(((struct config *)0)->mfa.issuer) },
	{ .name = "lockout_seconds", .type = F_INT, .off = COFF(mfa.lockout_seconds),
	  .min = 60, .max = 86400 },
};

static const struct field tombstones_fields[] = {
	{ .name = "keep_days", .type = F_INT, .off = COFF(tombstones.keep_days),
	  .min = 1, .max = 36500 },
};

static const struct field slots_fields[] = {
	{ .name = "enabled", .type = F_BOOL, .off = COFF(slots.enabled) },
	{ .name = "max_bytes", .type = F_INT, .off = COFF(slots.max_bytes),
	  .min = 1, .max = BLOB_MAX, .size = 1 },
	{ .name = "expire_days", .type = F_INT, .off = COFF(slots.expire_days),
	  .min = 1, .max = 36500 },
};

static const struct field cors_fields[] = {
	{ .name = "origins", .type = F_ORIGINS, .off = COFF(cors.origins),
	  .n_off = COFF(cors.n_origins), .max_items = CONFIG_MAX_ORIGINS },
};

static const struct field log_fields[] = {
	{ .name = "level", .type = F_ENUM, .off = COFF(log.level),
	  .names = level_names, .nnames = NELEM(level_names) },
};

static const struct field metrics_fields[] = {
	{ .name = "allow", .type = F_ADDRS, .off = COFF(metrics.allow),
	  .n_off = COFF(metrics.n_allow), .max_items = CONFIG_MAX_ALLOW },
};

static const struct field live_fields[] = {
	{ .name = "enabled", .type = F_BOOL, .off = COFF(live.enabled) },
	{ .name = "socket", .type = F_STR, .off = COFF(live.socket),
	  .max = sizeof(((struct config *)0)->live.socket) },
	{ .name = "port", .type = F_INT, .off = COFF(live.port), .min = 0, .max = 65535 },
	{ .name = "max_per_account", .type = F_INT, .off = COFF(live.max_per_account),
	  .min = 1, .max = 100000 },
	{ .name = "max_total", .type = F_INT, .off = COFF(live.max_total),
	  .min = 1, .max = 1000000 },
	{ .name = "ping_seconds", .type = F_INT, .off = COFF(live.ping_seconds),
	  .min = 5, .max = 300 },
};

static const struct field sharing_fields[] = {
	{ .name = "max_members", .type = F_INT, .off = COFF(sharing.max_members), .min = 1, .max = 100000 },
	{ .name = "max_pending_invitations", .type = F_INT, .off = COFF(sharing.max_pending_invitations),
	  .min = 1, .max = 100000 },
	{ .name = "invitation_days", .type = F_INT, .off = COFF(sharing.invitation_days), .min = 0, .max = 365 },
};

/* The top-level keys, in the order of config.md (and of config_print). */
const struct field cfg_top_fields[] = {
	{ .name = "database", .type = F_STR, .off = COFF(database),
	  .max = sizeof(((struct config *)0)->database) },
	{ .name = "secret_file", .type = F_STR, .off = COFF(secret_file),
	  .max = sizeof(((struct config *)0)->secret_file) },
	{ .name = "registration", .type = F_ENUM, .off = COFF(registration),
	  .names = reg_names, .nnames = NELEM(reg_names) },
	{ .name = "trusted_proxies", .type = F_ADDRS, .off = COFF(trusted_proxies),
	  .n_off = COFF(n_trusted_proxies), .max_items = CONFIG_MAX_PROXIES },
	{ .name = "require_https", .type = F_BOOL, .off = COFF(require_https) },
	{ .name = "tokens", RECORD(tokens_fields) },
	{ .name = "password_hash", RECORD(password_hash_fields) },
	{ .name = "prelogin_fake_kdf", .type = F_CUSTOM, .check = check_kdf,
	  .print = cfg_print_kdf },
	{ .name = "limits", RECORD(limits_fields), .post = post_limits },
	{ .name = "plans", .type = F_CUSTOM, .check = check_plans,
	  .print = cfg_print_plans },
	{ .name = "rate_limits", .type = F_CUSTOM, .check = check_rate_limits,
	  .print = cfg_print_rate_limits },
	{ .name = "mfa", RECORD(mfa_fields) },
	{ .name = "tombstones", RECORD(tombstones_fields) },
	{ .name = "slots", RECORD(slots_fields) },
	{ .name = "cors", RECORD(cors_fields) },
	{ .name = "log", RECORD(log_fields) },
	{ .name = "metrics", RECORD(metrics_fields) },
	{ .name = "live", RECORD(live_fields) },
	{ .name = "sharing", RECORD(sharing_fields) },
};
_Static_assert(NELEM(cfg_top_fields) == CFG_NTOP, "cfg_top_fields");
_Static_assert(CFG_NTOP <= 32, "cfg_top_fields");
/* ---------------------------------------------------------------------- */
/* checking values (each takes the value at the top of the stack) */

static int
fail_choice(struct ld *ld, const struct field *f, int idx)
{
	char list[600];
	size_t used = 0, i;

	list[0] = '\0';
	for (i = 0; i < f->nnames; i++)
		cfg_appendf(list, sizeof list, &used, "%s\"%s\"", i ? ", " : "", f->names[i]);
	return fail_at(ld, idx, "expected one of %s", list);
}

/*
 * The length n of the list at stack index t: a table whose keys are exactly
 * the integers 1..n (another key is reported as unknown). Fails with
 * "expected a list of WHAT" if it is not a table, or "expected at most MAX
 * WHAT, got N". Returns 0 with *n set, or -1 with the error set.
 */
static int
check_list_length(struct ld *ld, int t, const char *what, int max, lua_Integer *n)
{
	lua_State *L = ld->L;

	*n = 0;
	if (!lua_istable(L, t))
		return fail_at(ld, t, "expected a list of %s", what);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		(*n)++;
	}
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
		    lua_tointeger(L, -1) > *n) {
			cfg_part_key(ld, -1);
			return cfg_fail_unknown(ld);
		}
	}
	if (*n > max)
		return fail_at(ld, 0, "expected at most %d %s, got %lld",
		    max, what, (long long)*n);
	return 0;
}

static int
check_list(struct ld *ld, const struct field *f, void *base)
{
	lua_State *L = ld->L;
	int t = lua_gettop(L);
	size_t item = f->type == F_ADDRS ? CONFIG_ADDR_MAX : CONFIG_ORIGIN_MAX;
	const char *what = f->type == F_ADDRS ? "addresses" : "origins";
	lua_Integer n, i;

	if (check_list_length(ld, t, what, f->max_items, &n) != 0)
		return -1;
	for (i = 1; i <= n; i++) {
		const char *s;
		size_t len = 0;
		int ok;

		lua_rawgeti(L, t, i);
		part_index(ld, i);
		s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (f->type == F_ADDRS) {
			ok = s && valid_addr(s, len);
			if (!ok)
				return fail_at(ld, -1, "expected an IPv4 or IPv6 address or a "
				    "CIDR such as \"10.0.0.0/8\"");
		} else {
			ok = s && valid_origin(s, len);
			if (!ok)
				return fail_at(ld, -1, "expected \"*\" or an origin such as "
				    "\"https://example.org\" (lower case, no path)");
		}
		memcpy((char *)base + f->off + (size_t)(i - 1) * item, s, len);
		((char *)base + f->off + (size_t)(i - 1) * item)[len] = '\0';
		part_pop(ld);
		lua_pop(L, 1);
	}
	set_int(base, f->n_off, (int)n);
	return 0;
}

/*
 * Merges the table at the top of the stack into the fields `fs` of `base`:
 * unknown keys are errors, keys left out keep their current values. Sets
 * bit i of *given for each field the table set.
 */
static int
check_record(struct ld *ld, const struct field *fs, size_t nf, void *base,
    unsigned *given)
{
	lua_State *L = ld->L;
	int t = lua_gettop(L);
	size_t i;

	*given = 0;
	if (!lua_istable(L, t))
		return fail_at(ld, t, "expected a table");
	lua_pushnil(L);
	while (lua_next(L, t)) {
		int known = 0;
		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *k = lua_tostring(L, -1);
			for (i = 0; i < nf && !known; i++)
				known = strcmp(k, fs[i].name) == 0;
		}
		if (!known) {
			cfg_part_key(ld, -1);
			return cfg_fail_unknown(ld);
		}
	}
	for (i = 0; i < nf; i++) {
		lua_pushstring(L, fs[i].name);
		if (lua_rawget(L, t) != LUA_TNIL) {
			cfg_part_name(ld, fs[i].name);
			if (cfg_check_field(ld, &fs[i], base) != 0)
				return -1;
			part_pop(ld);
			*given |= 1u << i;
		}
		lua_pop(L, 1);
	}
	return 0;
}

/* Checks the value at the top of the stack against `f` and stores it. */
int
cfg_check_field(struct ld *ld, const struct field *f, void *base)
{
	lua_State *L = ld->L;
	int t = lua_gettop(L);
	const char *s;
	size_t len, i;
	int64_t v;
	unsigned given;

	switch (f->type) {
	case F_INT:
		if (to_int64(L, t, &v) != 0 || v < f->min || v > f->max)
			return fail_at(ld, t, "expected an integer from %lld to %lld",
			    (long long)f->min, (long long)f->max);
		set_i64(base, f->off, v);
		return 0;
	case F_BOOL:
		if (lua_type(L, t) != LUA_TBOOLEAN)
			return fail_at(ld, t, "expected true or false");
		set_int(base, f->off, lua_toboolean(L, t));
		return 0;
	case F_STR:
		s = lua_type(L, t) == LUA_TSTRING ? lua_tolstring(L, t, &len) : NULL;
		if (!s || len == 0 || len >= (size_t)f->max || memchr(s, '\0', len))
			return fail_at(ld, t, "expected a non-empty string of at most "
			    "%lld bytes without NUL", (long long)f->max - 1);
		memcpy((char *)base + f->off, s, len + 1);
		return 0;
	case F_ENUM:
	case F_NAME:
		s = lua_type(L, t) == LUA_TSTRING ? lua_tolstring(L, t, &len) : NULL;
		for (i = 0; s && i < f->nnames; i++)
			if (strlen(f->names[i]) == len && memcmp(s, f->names[i], len) == 0)
				break;
		if (!s || i == f->nnames)
			return fail_choice(ld, f, t);
		if (f->type == F_ENUM)
			set_int(base, f->off, (int)i);
		else
			cfg_copy_str((char *)base + f->off, CONFIG_NAME_MAX, f->names[i]);
		return 0;
	case F_ADDRS:
	case F_ORIGINS:
		return check_list(ld, f, base);
	case F_RECORD:
		if (check_record(ld, f->sub, f->nsub, base, &given) != 0)
			return -1;
		return f->post ? f->post(ld, base, given) : 0;
	case F_CUSTOM:
		return f->check(ld);
	}
	return fail_at(ld, 0, "internal error: unknown field type");
}

/* limits: a record can never be larger than the body that carries it. */
static int
post_limits(struct ld *ld, void *base, unsigned given)
{
	struct config *c = base;

	if (c->limits.max_record_bytes <= c->limits.max_body_bytes)
		return 0;
	if (given & (1u << LIM_RECORD)) {
		cfg_part_name(ld, "max_record_bytes");
		return fail_at(ld, 0, "expected an integer from 1 to max_body_bytes "
		    "(%lld), got %lld", (long long)c->limits.max_body_bytes,
		    (long long)c->limits.max_record_bytes);
	}
	cfg_part_name(ld, "max_body_bytes");
	return fail_at(ld, 0, "must be at least max_record_bytes (%lld), got %lld",
	    (long long)c->limits.max_record_bytes,
	    (long long)c->limits.max_body_bytes);
}

/* plans: the smallest backup allowed cannot exceed the largest. */
static int
post_plan(struct ld *ld, void *base, unsigned given)
{
	struct plan *p = base;

	if (p->min_backup_bytes <= p->backup_bytes)
		return 0;
	if (given & (1u << PL_MIN_BACKUP_BYTES)) {
		cfg_part_name(ld, "min_backup_bytes");
		return fail_at(ld, 0, "expected an integer from 0 to backup_bytes "
		    "(%lld), got %lld", (long long)p->backup_bytes,
		    (long long)p->min_backup_bytes);
	}
	cfg_part_name(ld, "backup_bytes");
	return fail_at(ld, 0, "must be at least min_backup_bytes (%lld), got %lld",
	    (long long)p->min_backup_bytes, (long long)p->backup_bytes);
}

static int
check_plan_table(struct ld *ld, struct plan *p)
{
	unsigned given;

	if (check_record(ld, cfg_plan_fields, NELEM(cfg_plan_fields), p, &given) != 0)
		return -1;
	return post_plan(ld, p, given);
}

static int
plan_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plan *)a)->name, ((const struct plan *)b)->name);
}

/*
 * plans: "default" is merged over the built-in default plan first; every
 * other plan starts as a copy of that result and is merged over it.
 * plans[1..] are sorted by name.
 */
static int
check_plans(struct ld *ld)
{
	lua_State *L = ld->L;
	struct config *c = ld->c;
	int t = lua_gettop(L);

	if (!lua_istable(L, t))
		return fail_at(ld, t, "expected a table of plans");
	lua_pushliteral(L, "default");
	if (lua_rawget(L, t) != LUA_TNIL) {
		cfg_part_name(ld, "default");
		if (check_plan_table(ld, &c->plans[0]) != 0)
			return -1;
		part_pop(ld);
	}
	lua_pop(L, 1);
	c->n_plans = 1;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		struct plan *p;
		const char *name;
		size_t len;

		if (lua_type(L, -2) != LUA_TSTRING) {
			cfg_part_key(ld, -2);
			return fail_at(ld, 0, "a plan name must be a string");
		}
		name = lua_tolstring(L, -2, &len);
		if (strcmp(name, "default") == 0) {
			lua_pop(L, 1);
			continue;
		}
		if (!valid_plan_name(name, len))
			return fail_at(ld, -2, "plan names are 1 to %d letters, digits, "
			    "'_', '-' or '.', starting with a letter or digit",
			    CONFIG_NAME_MAX - 1);
		if (c->n_plans >= CONFIG_MAX_PLANS)
			return fail_at(ld, 0, "at most %d plans, \"default\" included",
			    CONFIG_MAX_PLANS);
		p = &c->plans[c->n_plans];
		*p = c->plans[0];
		memcpy(p->name, name, len + 1);
		cfg_part_name(ld, name);
		if (check_plan_table(ld, p) != 0)
			return -1;
		part_pop(ld);
		c->n_plans++;
		lua_pop(L, 1);
	}
	qsort(c->plans + 1, (size_t)c->n_plans - 1, sizeof c->plans[0], plan_cmp);
	return 0;
}

/* rate_limits: a list that replaces the default list; every field required. */
static int
check_rate_limits(struct ld *ld)
{
	lua_State *L = ld->L;
	struct config *c = ld->c;
	int t = lua_gettop(L);
	lua_Integer n, i;
	size_t k;

	if (check_list_length(ld, t, "rules", CONFIG_MAX_RATE_RULES, &n) != 0)
		return -1;
	for (i = 1; i <= n; i++) {
		struct rate_rule *r = &c->rate_limits[i - 1];
		unsigned given;

		memset(r, 0, sizeof *r);
		lua_rawgeti(L, t, i);
		part_index(ld, i);
		if (check_record(ld, cfg_rule_fields, NELEM(cfg_rule_fields), r, &given) != 0)
			return -1;
		for (k = 0; k < NELEM(cfg_rule_fields); k++)
			if (!(given & (1u << k)))
				return fail_at(ld, 0, "missing %s (a rule needs route, per, "
				    "limit and window)", cfg_rule_fields[k].name);
		part_pop(ld);
		lua_pop(L, 1);
	}
	c->n_rate_limits = (int)n;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* prelogin_fake_kdf: a flat table serialised as compact, sorted JSON */

struct kdf_kv {
	const char *k;        /* borrowed from the Lua table */
	size_t kl;
	int type;             /* LUA_TSTRING, LUA_TNUMBER, LUA_TBOOLEAN */
	const char *s;
	size_t sl;
	int64_t i;
	int b;
};

static int
kdf_kv_cmp(const void *a, const void *b)
{
	const struct kdf_kv *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int r = memcmp(x->k, y->k, n);

	if (r)
		return r;
	return x->kl < y->kl ? -1 : x->kl > y->kl;
}

static int
check_kdf(struct ld *ld)
{
	lua_State *L = ld->L;
	int t = lua_gettop(L);
	struct kdf_kv kv[LOAD_KDF_KEYS];
	size_t n = 0, i, alg = SIZE_MAX;
	struct buf b;
	struct jw w;
	int too_long;

	if (!lua_istable(L, t))
		return fail_at(ld, t, "expected a table such as { alg = \"pbkdf2-sha256\", "
		    "iterations = 600000 }");
	lua_pushnil(L);
	while (lua_next(L, t)) {
		struct kdf_kv *e;

		if (n == LOAD_KDF_KEYS)
			return fail_at(ld, 0, "at most %d keys", LOAD_KDF_KEYS);
		e = &kv[n];
		if (lua_type(L, -2) != LUA_TSTRING) {
			cfg_part_key(ld, -2);
			return fail_at(ld, 0, "keys must be strings");
		}
		e->k = lua_tolstring(L, -2, &e->kl);
		cfg_part_name(ld, e->k);
		if (e->kl == 0 || !valid_utf8((const unsigned char *)e->k, e->kl))
			return fail_at(ld, 0, "keys must be non-empty UTF-8 strings");
		if (strcmp(e->k, "salt") == 0)
			return fail_at(ld, 0, "must not be set: the server adds a salt "
			    "derived from its secret and the username");
		e->type = lua_type(L, -1);
		switch (e->type) {
		case LUA_TSTRING:
			e->s = lua_tolstring(L, -1, &e->sl);
			if (!valid_utf8((const unsigned char *)e->s, e->sl))
				return fail_at(ld, 0, "expected a UTF-8 string");
			break;
		case LUA_TNUMBER:
			if (to_int64(L, -1, &e->i) != 0 || e->i < -JSON_SAFE_INT ||
			    e->i > JSON_SAFE_INT)
				return fail_at(ld, -1, "expected an integer from %lld to %lld",
				    -JSON_SAFE_INT, JSON_SAFE_INT);
			break;
		case LUA_TBOOLEAN:
			e->b = lua_toboolean(L, -1);
			break;
		default:
			return fail_at(ld, -1, "expected a string, an integer or a boolean");
		}
		if (strcmp(e->k, "alg") == 0) {
			if (e->type != LUA_TSTRING || e->sl == 0)
				return fail_at(ld, -1, "expected a non-empty string");
			alg = n;
		}
		part_pop(ld);
		n++;
		lua_pop(L, 1);
	}
	if (alg == SIZE_MAX)
		return fail_at(ld, 0, "missing alg (the KDF name, e.g. \"pbkdf2-sha256\")");
	qsort(kv, n, sizeof kv[0], kdf_kv_cmp);
	/* no Lua call from here on: a Lua error would leak the buffer */
	buf_init(&b, CONFIG_KDF_JSON_MAX - 1);
	if (!buf_reserve(&b, CONFIG_KDF_JSON_MAX - 1)) {
		buf_free(&b);
		return fail_at(ld, 0, "out of memory");
	}
	jw_init(&w, &b);
	jw_obj_begin(&w);
	for (i = 0; i < n; i++) {
		jw_keyn(&w, kv[i].k, kv[i].kl);
		if (kv[i].type == LUA_TSTRING)
			jw_strn(&w, kv[i].s, kv[i].sl);
		else if (kv[i].type == LUA_TBOOLEAN)
			jw_bool(&w, kv[i].b);
		else
			jw_int(&w, kv[i].i);
	}
	jw_obj_end(&w);
	too_long = buf_error(&b);
	if (!too_long)
		memcpy(ld->c->prelogin_fake_kdf_json, b.p, b.len + 1);
	buf_free(&b);
	if (too_long)
		return fail_at(ld, 0, "as JSON it must fit in %d bytes",
		    CONFIG_KDF_JSON_MAX - 1);
	return 0;
}
/*
 * The config file to use: $BLINDSYNC_CONFIG when set and non-empty (even if
 * it does not exist: loading it then reports the error), else the compiled-in
 * BLINDSYNC_DEFAULT_CONFIG if it exists, else NULL (built-in defaults). The
 * string is the environment's or static; do not free it.
 */
const char *
config_path(void)
{
	const char *e = getenv("BLINDSYNC_CONFIG");

	if (e && *e)
		return e;
	if (access(BLINDSYNC_DEFAULT_CONFIG, F_OK) == 0)
		return BLINDSYNC_DEFAULT_CONFIG;
	return NULL;
}

/*
 * The plan named `name` in `c`, or NULL. The pointer borrows from `c`.
 */
const struct plan *
config_plan(const struct config *c, const char *name)
{
	int i;

	if (!c || !name)
		return NULL;
	for (i = 0; i < c->n_plans; i++)
		if (strcmp(c->plans[i].name, name) == 0)
			return &c->plans[i];
	return NULL;
}

