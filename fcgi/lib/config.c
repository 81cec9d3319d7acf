/*
 * config.c: the Lua configuration file as a typed, validated struct config.
 *
 * config_load() reads the file into memory, evaluates it once in a sandboxed
 * Lua state, copies every value it set into `struct config` with type and
 * range checks, and closes the state before it returns. The rules the file
 * must follow are in docs/CONFIG.md; the keys and defaults in
 * ../shared/spec/config.md. The snapshot functions at the end hand the result
 * to threaded handlers under a reference count.
 *
 * The sandbox: only the base, string, table and math libraries; no dofile,
 * loadfile, load, require, collectgarbage, print, warn or string.dump (the
 * file system, the process, bytecode); no pcall or xpcall (they could catch
 * the limit errors and carry on); no rawset (it would bypass the recording
 * of assignments); no setmetatable (Lua 5.4 runs __gc finalizers with hooks
 * off, so one could loop forever at lua_close(); and with no metatables a
 * config holds plain data). Text chunks only; memory capped by a custom
 * allocator; VM instructions capped by a count hook. The cap does not cover
 * time spent inside one C library call, e.g. a pathological string.find()
 * pattern: the file is trusted to be written by the operator, the sandbox
 * keeps mistakes from hanging or harming the server. Every global assignment
 * goes through a C __newindex that records its line, so that an error can
 * name "file:line".
 *
 * This file must never: run Lua after config_load() returns, give the file
 * any way to reach the file system, the process or bytecode, let a config
 * run or allocate without bound, fall back to defaults when a file is bad,
 * or exit/abort on anything the file contains. Lua errors unwind with
 * longjmp, so no C allocation may be held across a Lua API call that can
 * raise one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "config.h"

#ifndef BLINDSYNC_DEFAULT_CONFIG
#define BLINDSYNC_DEFAULT_CONFIG "/etc/blindsync/blindsync.lua"
#endif

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define KIB 1024LL
#define MIB (1024LL * KIB)
#define GIB (1024LL * MIB)
/* a backup or slot is one SQLite blob: at most SQLITE_MAX_LENGTH bytes */
#define BLOB_MAX 1000000000LL

#define LOAD_MEM_MAX ((size_t)8 * 1024 * 1024) /* bytes the Lua state may hold */
#define LOAD_INSN_MAX 10000000L                /* VM instructions per load */
#define LOAD_HOOK_EVERY 1000                   /* count hook period */
#define LOAD_FILE_MAX ((size_t)1024 * 1024)    /* config file size */
#define LOAD_KDF_KEYS 64                       /* keys of prelogin_fake_kdf */
#define JSON_SAFE_INT 9007199254740991LL       /* 2^53 - 1 */

/*
 * The chunk is loaded under this name, so Lua's own messages read
 * "@config@:12: ..."; the prefix is replaced by the path as given (Lua
 * would shorten a long "@path" chunk name to 60 bytes).
 */
#define CHUNK_MARK "@config@"

/* ---------------------------------------------------------------------- */
/* names */

static const char *const reg_names[] = { "open", "invite", "closed" };
static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const per_names[] = { "ip", "account", "username" };
_Static_assert(NELEM(reg_names) == REG_CLOSED + 1, "reg_names");
_Static_assert(NELEM(level_names) == LOG_DEBUG + 1, "level_names");
_Static_assert(NELEM(per_names) == PER_USERNAME + 1, "per_names");
/* enums are stored through an int (see set_enum()) */
_Static_assert(sizeof(enum registration) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rate_per) == sizeof(int), "enum size");

/* Route names a rate limit may name (config.md). */
static const char *const route_names[] = {
	"account.register", "account.prelogin", "account.login",
	"account.refresh", "account.*", "push", "pull", "status",
	"collections", "records", "backups.put", "backups.get",
	"slots.create", "slots.put", "slots.get", "export", "import", "*",
};

static const char *const lua_keywords[] = {
	"and", "break", "do", "else", "elseif", "end", "false", "for",
	"function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
	"return", "then", "true", "until", "while",
};

static const char *
name_of(const char *const *names, size_t n, int v)
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
	return name_of(reg_names, NELEM(reg_names), (int)r);
}

/*
 * Returns the name of log level `l` ("error" ... "debug"), or "?".
 * The string is static.
 */
const char *
config_log_level_name(enum log_level l)
{
	return name_of(level_names, NELEM(level_names), (int)l);
}

/*
 * Returns the name of rate-limit key `p` ("ip", "account", "username"),
 * or "?". The string is static.
 */
const char *
config_per_name(enum rate_per p)
{
	return name_of(per_names, NELEM(per_names), (int)p);
}

/* ---------------------------------------------------------------------- */
/* defaults */

static void
copy_str(char *dst, size_t size, const char *src)
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
		{ "slots.create", PER_IP, 3, 86400 },
		{ "*", PER_ACCOUNT, 600, 60 },
	};
	_Static_assert(NELEM(rules) <= CONFIG_MAX_RATE_RULES, "rules");
	size_t i;

	memset(c, 0, sizeof *c);
	copy_str(c->database, sizeof c->database, "var/blindsync.db");
	copy_str(c->secret_file, sizeof c->secret_file, "var/secret");
	c->registration = REG_OPEN;
	c->n_trusted_proxies = 0;
	c->require_https = 1;

	c->tokens.access_ttl = 900;
	c->tokens.refresh_ttl = 30 * 86400;
	c->password_hash.iterations = 100000;
	copy_str(c->prelogin_fake_kdf_json, sizeof c->prelogin_fake_kdf_json,
	    "{\"alg\":\"pbkdf2-sha256\",\"iterations\":600000}");

	c->limits.max_body_bytes = 8 * MIB;
	c->limits.max_record_bytes = 256 * KIB;
	c->limits.max_push_records = 1000;
	c->limits.max_pull_records = 1000;
	c->limits.max_wait_seconds = 60;
	c->limits.max_import_bytes = 1 * GIB;

	copy_str(c->plans[0].name, sizeof c->plans[0].name, "default");
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

	c->tombstones.keep_days = 90;
	c->slots.enabled = 0;
	c->slots.max_bytes = 1 * MIB;
	c->slots.expire_days = 365;
	c->cors.n_origins = 0;
	c->log.level = LOG_INFO;
	copy_str(c->metrics.allow[0], sizeof c->metrics.allow[0], "127.0.0.1");
	copy_str(c->metrics.allow[1], sizeof c->metrics.allow[1], "::1");
	c->metrics.n_allow = 2;
}

/* ---------------------------------------------------------------------- */
/* the loader's state */

#define MAX_PARTS 8

enum part_kind { P_NAME, P_INDEX, P_OTHER };

/* One component of the key path being checked: limits / max_push_records. */
struct part {
	enum part_kind kind;
	const char *name;   /* P_NAME: borrowed from a Lua string on the stack */
	lua_Integer index;  /* P_INDEX */
};

struct fileid {
	int ok;             /* 1: stat worked; 0: err holds the errno */
	int err;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
};

struct ld {
	const char *path;   /* as given, for messages */
	const char *text;   /* the file's text, for finding nested keys' lines */
	size_t len;
	struct config *c;
	lua_State *L;
	size_t mem, mem_max;
	long hooks;         /* count-hook calls so far */
	int dead;           /* instruction limit reached: every hook call raises */
	int load_status;    /* luaL_loadbufferx()'s result */
	int set, lines;     /* stack slots: values the file set, and their lines */
	int g;              /* stack slot: the real globals table */
	int top_line;       /* line of the top-level assignment being checked */
	struct part parts[MAX_PARTS];
	int nparts;
	int failed;
	char err[1024];
};

/* ---------------------------------------------------------------------- */
/* small helpers */

static int
is_lua_name(const char *s)
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
static void
appendf(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
appendf(char *buf, size_t n, size_t *used, const char *fmt, ...)
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
	appendf(buf, n, &used, "\"");
	for (i = 0; i < len && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			appendf(buf, n, &used, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			appendf(buf, n, &used, "\\%03u", ch);
		else
			appendf(buf, n, &used, "%c", ch);
	}
	appendf(buf, n, &used, "%s", len > max ? "...\"" : "\"");
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
static void
one_line(char *s)
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
/*
 * Finding the line of a nested key. Lua records only the line where the
 * global assignment executed (for a multi-line table, its last line), so on
 * an error the file's text is tokenised and searched: the last top-level
 * `name =` at or before that line, then inside its table constructor the
 * field `key =` (or the n-th positional element) for each further part of
 * the key path. Only runs on the error path.
 */

enum tk { TK_NAME, TK_ASSIGN, TK_DOT, TK_SEP, TK_LBRACE, TK_LPAREN,
    TK_LBRACKET, TK_CLOSE, TK_OTHER };

struct tok {
	enum tk kind;
	int line;
	size_t off, len;
};

/* At s[*i] a newline (\n, \r, \r\n or \n\r)? Consume it and count it. */
static int
lex_newline(const char *s, size_t n, size_t *i, int *line)
{
	char ch = s[*i];

	if (ch != '\n' && ch != '\r')
		return 0;
	(*i)++;
	if (*i < n && (s[*i] == '\n' || s[*i] == '\r') && s[*i] != ch)
		(*i)++;
	(*line)++;
	return 1;
}

/* s[i] is '['; returns level+1 if a long bracket [==[ opens here, else 0. */
static size_t
lex_long_open(const char *s, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && s[j] == '=')
		j++;
	return j < n && s[j] == '[' ? j - i : 0;
}

/* Skips a long bracket's body from i to after its ]==] (level `lv`). */
static size_t
lex_long_skip(const char *s, size_t n, size_t i, size_t lv, int *line)
{
	while (i < n) {
		if (lex_newline(s, n, &i, line))
			continue;
		if (s[i] == ']') {
			size_t j = i + 1, eq = 0;
			while (j < n && s[j] == '=') {
				j++;
				eq++;
			}
			if (eq == lv && j < n && s[j] == ']')
				return j + 1;
		}
		i++;
	}
	return n;
}

static int
lex_push(struct tok **v, size_t *cnt, size_t *cap, enum tk kind, int line,
    size_t off, size_t len)
{
	if (*cnt == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct tok *nv = realloc(*v, ncap * sizeof **v);
		if (!nv)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[*cnt].kind = kind;
	(*v)[*cnt].line = line;
	(*v)[*cnt].off = off;
	(*v)[*cnt].len = len;
	(*cnt)++;
	return 0;
}

#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || (c) == '_')
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/*
 * Tokenises the Lua text s[0..n) coarsely (names, =, ., separators and
 * brackets; strings, numbers, comments skipped). Returns 0 with *out
 * (caller frees) and *nout, or -1 on allocation failure.
 */
static int
lex_all(const char *s, size_t n, struct tok **out, size_t *nout)
{
	struct tok *v = NULL;
	size_t cnt = 0, cap = 0, i = 0, lv;
	int line = 1;

	while (i < n) {
		char ch = s[i];
		size_t start = i;
		int tline = line;
		enum tk kind = TK_OTHER;

		if (lex_newline(s, n, &i, &line))
			continue;
		if (ch == ' ' || ch == '\t' || ch == '\f' || ch == '\v') {
			i++;
			continue;
		}
		if (ch == '-' && i + 1 < n && s[i + 1] == '-') {
			i += 2;
			if (i < n && s[i] == '[' && (lv = lex_long_open(s, n, i)) != 0)
				i = lex_long_skip(s, n, i + lv + 1, lv - 1, &line);
			else
				while (i < n && s[i] != '\n' && s[i] != '\r')
					i++;
			continue;
		}
		if (ch == '[' && (lv = lex_long_open(s, n, i)) != 0) {
			i = lex_long_skip(s, n, i + lv + 1, lv - 1, &line);
		} else if (ch == '"' || ch == '\'') {
			for (i++; i < n && s[i] != ch;) {
				if (s[i] == '\\' && i + 1 < n) {
					i++;
					if (!lex_newline(s, n, &i, &line))
						i++;
				} else if (!lex_newline(s, n, &i, &line))
					i++;
			}
			i++;
		} else if (IS_ALPHA(ch)) {
			while (i < n && (IS_ALPHA(s[i]) || IS_DIGIT(s[i])))
				i++;
			kind = TK_NAME;
		} else if (IS_DIGIT(ch) || (ch == '.' && i + 1 < n && IS_DIGIT(s[i + 1]))) {
			while (i < n && (IS_ALPHA(s[i]) || IS_DIGIT(s[i]) || s[i] == '.' ||
			    ((s[i] == '+' || s[i] == '-') && strchr("eEpP", s[i - 1]))))
				i++;
		} else {
			i++;
			switch (ch) {
			case '{': kind = TK_LBRACE; break;
			case '(': kind = TK_LPAREN; break;
			case '[': kind = TK_LBRACKET; break;
			case '}': case ')': case ']': kind = TK_CLOSE; break;
			case ',': case ';': kind = TK_SEP; break;
			case '.':
				if (i < n && s[i] == '.')
					while (i < n && s[i] == '.')
						i++;
				else
					kind = TK_DOT;
				break;
			case '=':
				if (i < n && s[i] == '=')
					i++;
				else
					kind = TK_ASSIGN;
				break;
			case '<': case '>': case '~':
				if (i < n && s[i] == '=')
					i++;
				break;
			default:
				break;
			}
		}
		if (i > n)
			i = n;
		if (lex_push(&v, &cnt, &cap, kind, tline, start, i - start) != 0) {
			free(v);
			return -1;
		}
	}
	*out = v;
	*nout = cnt;
	return 0;
}

static int
tok_is(const char *s, const struct tok *t, const char *name)
{
	return t->kind == TK_NAME && strlen(name) == t->len &&
	    memcmp(s + t->off, name, t->len) == 0;
}

/*
 * The line to report for the current key path: the line of its innermost
 * part that can be found in the text, else the line of the top-level
 * assignment (ld->top_line). Never fails.
 */
static int
locate(const struct ld *ld)
{
	const struct part *pt;
	struct tok *t = NULL;
	size_t n = 0, i, pos, at = SIZE_MAX;
	int line = ld->top_line, depth = 0, p, nparts;

	nparts = ld->nparts < MAX_PARTS ? ld->nparts : MAX_PARTS;
	if (nparts == 0 || ld->parts[0].kind != P_NAME || !ld->text || line <= 0)
		return line;
	if (lex_all(ld->text, ld->len, &t, &n) != 0)
		return line;
	for (i = 0; i < n; i++) {
		enum tk k = t[i].kind;
		if (depth == 0 && t[i].line <= line && i + 1 < n &&
		    t[i + 1].kind == TK_ASSIGN && tok_is(ld->text, &t[i], ld->parts[0].name) &&
		    !(i > 0 && (t[i - 1].kind == TK_DOT || tok_is(ld->text, &t[i - 1], "local"))))
			at = i;
		if (k == TK_LBRACE || k == TK_LPAREN || k == TK_LBRACKET)
			depth++;
		else if (k == TK_CLOSE && depth > 0)
			depth--;
	}
	if (at == SIZE_MAX)
		goto out;
	line = t[at].line;
	pos = at + 2;
	for (p = 1; p < nparts; p++) {
		size_t j, found = SIZE_MAX;
		lua_Integer elem = 1;
		int d = 0, start = 1, positional = 0;

		pt = &ld->parts[p];
		if (pt->kind == P_OTHER || pos >= n || t[pos].kind != TK_LBRACE)
			break;
		for (j = pos + 1; j < n && found == SIZE_MAX; j++) {
			enum tk k = t[j].kind;
			if (d == 0) {
				if (k == TK_CLOSE)
					break;
				if (k == TK_SEP) {
					if (positional)
						elem++;
					start = 1;
					positional = 0;
					continue;
				}
				if (start) {
					int keyed = (k == TK_NAME && j + 1 < n &&
					    t[j + 1].kind == TK_ASSIGN) || k == TK_LBRACKET;
					start = 0;
					positional = !keyed;
					if (pt->kind == P_NAME && k == TK_NAME && keyed &&
					    tok_is(ld->text, &t[j], pt->name))
						found = j;
					else if (pt->kind == P_INDEX && positional &&
					    elem == pt->index)
						found = j;
				}
			}
			if (k == TK_LBRACE || k == TK_LPAREN || k == TK_LBRACKET)
				d++;
			else if (k == TK_CLOSE)
				d--;
		}
		if (found == SIZE_MAX)
			break;
		line = t[found].line;
		pos = pt->kind == P_NAME ? found + 2 : found;
	}
out:
	free(t);
	return line;
}

/*
 * The name _ENV is refused anywhere in the code: `local _ENV = {}` would
 * send the assignments after it to a table nobody checks, silently. Returns
 * 0, or -1 with ld->err set.
 */
static int
check_no_env(struct ld *ld)
{
	struct tok *t = NULL;
	size_t n = 0, i, used = 0;
	int line = 0;

	if (lex_all(ld->text, ld->len, &t, &n) != 0) {
		appendf(ld->err, sizeof ld->err, &used, "%s: out of memory", ld->path);
		return -1;
	}
	for (i = 0; i < n && !line; i++)
		if (tok_is(ld->text, &t[i], "_ENV"))
			line = t[i].line;
	free(t);
	if (!line)
		return 0;
	appendf(ld->err, sizeof ld->err, &used, "%s:%d: _ENV is reserved: a "
	    "config sets its keys as plain globals", ld->path, line);
	return -1;
}

/* ---------------------------------------------------------------------- */
/* key paths and error messages */

static void
part_name(struct ld *ld, const char *name)
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
static void
part_key(struct ld *ld, int idx)
{
	lua_State *L = ld->L;

	if (lua_type(L, idx) == LUA_TSTRING)
		part_name(ld, lua_tostring(L, idx));
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
			if (i == 0 || is_lua_name(p->name))
				appendf(buf, n, &used, "%s%s", i ? "." : "", p->name);
			else {
				quote(q, sizeof q, p->name, strlen(p->name), 64);
				appendf(buf, n, &used, "[%s]", q);
			}
			break;
		case P_INDEX:
			appendf(buf, n, &used, "[%lld]", (long long)p->index);
			break;
		case P_OTHER:
			appendf(buf, n, &used, "[?]");
			break;
		}
	}
}

/* "FILE:LINE: " or "FILE: " into ld->err; returns the bytes written. */
static size_t
err_where(struct ld *ld)
{
	size_t used = 0;
	int line = locate(ld);

	if (line > 0)
		appendf(ld->err, sizeof ld->err, &used, "%s:%d: ", ld->path, line);
	else
		appendf(ld->err, sizeof ld->err, &used, "%s: ", ld->path);
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
	appendf(ld->err, sizeof ld->err, &used, "%s: %s", path, msg);
	if (got_idx) {
		describe(ld->L, got_idx, got, sizeof got);
		appendf(ld->err, sizeof ld->err, &used, ", got %s", got);
	}
	ld->failed = 1;
	return -1;
}

/* Fails with "FILE:LINE: unknown key 'KEY.PATH'". Returns -1. */
static int
fail_unknown(struct ld *ld)
{
	char path[256];
	size_t used;

	fmt_path(ld, path, sizeof path);
	used = err_where(ld);
	appendf(ld->err, sizeof ld->err, &used, "unknown key '%s'", path);
	ld->failed = 1;
	return -1;
}

/* ---------------------------------------------------------------------- */
/* field tables: what each key is, where it goes, how it prints */

enum ftype {
	F_INT,      /* int64_t, min..max */
	F_BOOL,     /* int 0/1 from a Lua boolean */
	F_STR,      /* char[max]: non-empty, no NUL */
	F_ENUM,     /* int from one of names[] */
	F_NAME,     /* char[CONFIG_NAME_MAX] holding one of names[] */
	F_ADDRS,    /* list of addresses/CIDRs: char[][CONFIG_ADDR_MAX] + int count */
	F_ORIGINS,  /* list of origins: char[][CONFIG_ORIGIN_MAX] + int count */
	F_RECORD,   /* a table of named fields, merged over the current values */
	F_CUSTOM,   /* checked and printed by its own functions */
};

struct field {
	const char *name;
	enum ftype type;
	size_t off;                   /* into the base struct */
	int64_t min, max;             /* F_INT range; F_STR buffer size */
	int size;                     /* F_INT: a byte size (prints as N * MiB) */
	const char *const *names;     /* F_ENUM, F_NAME */
	size_t nnames;
	size_t n_off;                 /* lists: offset of the int count */
	int max_items;                /* lists */
	const struct field *sub;      /* F_RECORD */
	size_t nsub;
	int (*post)(struct ld *, void *base, unsigned given); /* F_RECORD */
	int (*check)(struct ld *);                            /* F_CUSTOM */
	int (*print)(const struct config *, FILE *);          /* F_CUSTOM */
};

#define COFF(m) offsetof(struct config, m)
#define PLOFF(m) offsetof(struct plan, m)
#define RROFF(m) offsetof(struct rate_rule, m)

static int post_limits(struct ld *, void *, unsigned);
static int post_plan(struct ld *, void *, unsigned);
static int check_kdf(struct ld *);
static int check_plans(struct ld *);
static int check_rate_limits(struct ld *);
static int print_kdf(const struct config *, FILE *);
static int print_plans(const struct config *, FILE *);
static int print_rate_limits(const struct config *, FILE *);

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
};

enum { PL_BACKUP_BYTES = 3, PL_MIN_BACKUP_BYTES = 4 };  /* indexes into plan_fields[] */
static const struct field plan_fields[] = {
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

static const struct field rule_fields[] = {
	{ .name = "route", .type = F_NAME, .off = RROFF(route),
	  .names = route_names, .nnames = NELEM(route_names) },
	{ .name = "per", .type = F_ENUM, .off = RROFF(per),
	  .names = per_names, .nnames = NELEM(per_names) },
	{ .name = "limit", .type = F_INT, .off = RROFF(limit),
	  .min = 1, .max = 1000000000 },
	{ .name = "window", .type = F_INT, .off = RROFF(window),
	  .min = 1, .max = 31 * 86400LL },
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

#define RECORD(f) .type = F_RECORD, .sub = (f), .nsub = NELEM(f)

/* The top-level keys, in the order of config.md (and of config_print). */
static const struct field top_fields[] = {
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
	  .print = print_kdf },
	{ .name = "limits", RECORD(limits_fields), .post = post_limits },
	{ .name = "plans", .type = F_CUSTOM, .check = check_plans,
	  .print = print_plans },
	{ .name = "rate_limits", .type = F_CUSTOM, .check = check_rate_limits,
	  .print = print_rate_limits },
	{ .name = "tombstones", RECORD(tombstones_fields) },
	{ .name = "slots", RECORD(slots_fields) },
	{ .name = "cors", RECORD(cors_fields) },
	{ .name = "log", RECORD(log_fields) },
	{ .name = "metrics", RECORD(metrics_fields) },
};
#define NTOP NELEM(top_fields)
_Static_assert(NELEM(top_fields) <= 32, "top_fields");

static void
set_i64(void *base, size_t off, int64_t v)
{
	memcpy((char *)base + off, &v, sizeof v);
}

static int64_t
get_i64(const void *base, size_t off)
{
	int64_t v;

	memcpy(&v, (const char *)base + off, sizeof v);
	return v;
}

static void
set_int(void *base, size_t off, int v)
{
	memcpy((char *)base + off, &v, sizeof v);
}

static int
get_int(const void *base, size_t off)
{
	int v;

	memcpy(&v, (const char *)base + off, sizeof v);
	return v;
}

/* ---------------------------------------------------------------------- */
/* checking values (each takes the value at the top of the stack) */

static int check_field(struct ld *ld, const struct field *f, void *base);

static int
fail_choice(struct ld *ld, const struct field *f, int idx)
{
	char list[600];
	size_t used = 0, i;

	list[0] = '\0';
	for (i = 0; i < f->nnames; i++)
		appendf(list, sizeof list, &used, "%s\"%s\"", i ? ", " : "", f->names[i]);
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
			part_key(ld, -1);
			return fail_unknown(ld);
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
			part_key(ld, -1);
			return fail_unknown(ld);
		}
	}
	for (i = 0; i < nf; i++) {
		lua_pushstring(L, fs[i].name);
		if (lua_rawget(L, t) != LUA_TNIL) {
			part_name(ld, fs[i].name);
			if (check_field(ld, &fs[i], base) != 0)
				return -1;
			part_pop(ld);
			*given |= 1u << i;
		}
		lua_pop(L, 1);
	}
	return 0;
}

/* Checks the value at the top of the stack against `f` and stores it. */
static int
check_field(struct ld *ld, const struct field *f, void *base)
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
			copy_str((char *)base + f->off, CONFIG_NAME_MAX, f->names[i]);
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
		part_name(ld, "max_record_bytes");
		return fail_at(ld, 0, "expected an integer from 1 to max_body_bytes "
		    "(%lld), got %lld", (long long)c->limits.max_body_bytes,
		    (long long)c->limits.max_record_bytes);
	}
	part_name(ld, "max_body_bytes");
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
		part_name(ld, "min_backup_bytes");
		return fail_at(ld, 0, "expected an integer from 0 to backup_bytes "
		    "(%lld), got %lld", (long long)p->backup_bytes,
		    (long long)p->min_backup_bytes);
	}
	part_name(ld, "backup_bytes");
	return fail_at(ld, 0, "must be at least min_backup_bytes (%lld), got %lld",
	    (long long)p->min_backup_bytes, (long long)p->backup_bytes);
}

static int
check_plan_table(struct ld *ld, struct plan *p)
{
	unsigned given;

	if (check_record(ld, plan_fields, NELEM(plan_fields), p, &given) != 0)
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
		part_name(ld, "default");
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
			part_key(ld, -2);
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
		part_name(ld, name);
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
		if (check_record(ld, rule_fields, NELEM(rule_fields), r, &given) != 0)
			return -1;
		for (k = 0; k < NELEM(rule_fields); k++)
			if (!(given & (1u << k)))
				return fail_at(ld, 0, "missing %s (a rule needs route, per, "
				    "limit and window)", rule_fields[k].name);
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

struct out {
	char *b;
	size_t n, used;
	int overflow;
};

static void
out_put(struct out *o, const char *s, size_t len)
{
	if (o->overflow || len >= o->n - o->used) {
		o->overflow = 1;
		return;
	}
	memcpy(o->b + o->used, s, len);
	o->used += len;
	o->b[o->used] = '\0';
}

static void
json_string(struct out *o, const char *s, size_t len)
{
	size_t i;
	char esc[8];

	out_put(o, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			out_put(o, esc, 2);
		} else if (ch == '\n')
			out_put(o, "\\n", 2);
		else if (ch == '\r')
			out_put(o, "\\r", 2);
		else if (ch == '\t')
			out_put(o, "\\t", 2);
		else if (ch < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", ch);
			out_put(o, esc, 6);
		} else
			out_put(o, s + i, 1);
	}
	out_put(o, "\"", 1);
}

static int
check_kdf(struct ld *ld)
{
	lua_State *L = ld->L;
	int t = lua_gettop(L);
	struct kdf_kv kv[LOAD_KDF_KEYS];
	size_t n = 0, i, alg = SIZE_MAX;
	char json[CONFIG_KDF_JSON_MAX], num[32];
	struct out o = { json, sizeof json, 0, 0 };

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
			part_key(ld, -2);
			return fail_at(ld, 0, "keys must be strings");
		}
		e->k = lua_tolstring(L, -2, &e->kl);
		part_name(ld, e->k);
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
	json[0] = '\0';
	out_put(&o, "{", 1);
	for (i = 0; i < n; i++) {
		if (i)
			out_put(&o, ",", 1);
		json_string(&o, kv[i].k, kv[i].kl);
		out_put(&o, ":", 1);
		if (kv[i].type == LUA_TSTRING)
			json_string(&o, kv[i].s, kv[i].sl);
		else if (kv[i].type == LUA_TBOOLEAN)
			out_put(&o, kv[i].b ? "true" : "false", kv[i].b ? 4 : 5);
		else {
			snprintf(num, sizeof num, "%lld", (long long)kv[i].i);
			out_put(&o, num, strlen(num));
		}
	}
	out_put(&o, "}", 1);
	if (o.overflow)
		return fail_at(ld, 0, "as JSON it must fit in %d bytes",
		    CONFIG_KDF_JSON_MAX - 1);
	memcpy(ld->c->prelogin_fake_kdf_json, json, o.used + 1);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* the sandbox */

/* The allocator: realloc with a ceiling on the total the state holds. */
static void *
sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct ld *ld = ud;
	void *p;

	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		ld->mem -= osize;
		return NULL;
	}
	if (nsize > osize && nsize - osize > ld->mem_max - ld->mem)
		return NULL;
	p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	ld->mem = ld->mem - osize + nsize;
	return p;
}

/*
 * The count hook: after LOAD_INSN_MAX instructions, raise an error, and
 * from then on raise one at every instruction (finalizers included).
 */
static void
sandbox_hook(lua_State *L, lua_Debug *ar)
{
	void *ud;
	struct ld *ld;

	lua_getallocf(L, &ud);
	ld = ud;
	if (!ld->dead && ++ld->hooks < LOAD_INSN_MAX / LOAD_HOOK_EVERY)
		return;
	if (!ld->dead) {
		ld->dead = 1;
		lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, 1);
	}
	lua_getinfo(L, "l", ar);
	if (ar->currentline > 0)
		lua_pushfstring(L, CHUNK_MARK ":%d: instruction limit exceeded "
		    "(a config may run at most %d VM instructions)",
		    ar->currentline, (int)LOAD_INSN_MAX);
	else
		lua_pushfstring(L, "instruction limit exceeded (a config may run at "
		    "most %d VM instructions)", (int)LOAD_INSN_MAX);
	lua_error(L);
}

/* _ENV's __index: what the file set, else the real globals. */
static int
env_index(lua_State *L)
{
	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	lua_pushvalue(L, 2);
	lua_rawget(L, lua_upvalueindex(2));
	return 1;
}

/*
 * _ENV's __newindex: every global assignment lands here (the proxy stays
 * empty). Store the value, and the line of the Lua code that assigned it.
 */
static int
env_newindex(lua_State *L)
{
	lua_Debug ar;
	int level, line = 0;

	for (level = 1; lua_getstack(L, level, &ar); level++)
		if (lua_getinfo(L, "l", &ar) && ar.currentline > 0) {
			line = ar.currentline;
			break;
		}
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 3);
	lua_rawset(L, lua_upvalueindex(1));
	lua_pushvalue(L, 2);
	lua_pushinteger(L, line);
	lua_rawset(L, lua_upvalueindex(2));
	return 0;
}

/* The recorded line of the key at idx (0 if none). */
static int
line_of(struct ld *ld, int idx)
{
	lua_State *L = ld->L;
	lua_Integer line;

	lua_pushvalue(L, idx);
	lua_rawget(L, ld->lines);
	line = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
	lua_pop(L, 1);
	return line > 0 && line < INT_MAX ? (int)line : 0;
}

/* Is the key at idx a known key, or a name that existed before the chunk? */
static int
is_known_global(struct ld *ld, int idx)
{
	lua_State *L = ld->L;
	size_t i;
	int pre;

	if (lua_type(L, idx) != LUA_TSTRING)
		return 0;
	for (i = 0; i < NTOP; i++)
		if (strcmp(lua_tostring(L, idx), top_fields[i].name) == 0)
			return 1;
	lua_pushvalue(L, idx);
	pre = lua_rawget(L, ld->g) != LUA_TNIL;
	lua_pop(L, 1);
	return pre;
}

/*
 * Walks what the file set: known keys in the order of their lines, and the
 * first unknown key reported where it falls in that order.
 */
static int
check_globals(struct ld *ld)
{
	lua_State *L = ld->L;
	int line[NTOP], order[NTOP], nset = 0, uline = 0, have_u = 0, uslot, k, j;
	size_t i;

	luaL_checkstack(L, 32, "config walk");
	for (i = 0; i < NTOP; i++) {
		lua_pushstring(L, top_fields[i].name);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, ld->set) != LUA_TNIL) {
			line[i] = line_of(ld, -2);
			for (j = nset; j > 0 && line[order[j - 1]] > line[i]; j--)
				order[j] = order[j - 1];
			order[j] = (int)i;
			nset++;
		}
		lua_pop(L, 2);
	}
	lua_pushnil(L);
	uslot = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, ld->set)) {
		lua_pop(L, 1);
		if (!is_known_global(ld, -1)) {
			int l = line_of(ld, -1);
			if (!have_u || l < uline) {
				have_u = 1;
				uline = l;
				lua_copy(L, -1, uslot);
			}
		}
	}
	for (k = 0; k <= nset; k++) {
		const struct field *f;

		if (have_u && (k == nset || uline < line[order[k]])) {
			ld->top_line = uline;
			ld->nparts = 0;
			part_key(ld, uslot);
			return fail_unknown(ld);
		}
		if (k == nset)
			break;
		f = &top_fields[order[k]];
		ld->top_line = line[order[k]];
		ld->nparts = 0;
		part_name(ld, f->name);
		lua_pushstring(L, f->name);
		lua_rawget(L, ld->set);
		if (check_field(ld, f, ld->c) != 0)
			return -1;
		lua_pop(L, 1);
	}
	ld->nparts = 0;
	return 0;
}

/*
 * Runs in protected mode (argument 1: the struct ld): build the sandbox,
 * load and run the chunk, then check what it set. A Lua error (syntax,
 * runtime, memory, instruction limit) propagates to the lua_pcall() of
 * load_text(); a validation error sets ld->failed and returns normally.
 */
static int
sandbox_main(lua_State *L)
{
	static const char *const drop[] = {
		"dofile", "loadfile", "load", "loadstring", "require",
		"collectgarbage", "print", "warn", "rawset", "pcall", "xpcall",
		"setmetatable",
	};
	static const struct {
		const char *name;
		lua_CFunction open;
	} libs[] = {
		{ LUA_GNAME, luaopen_base },
		{ LUA_STRLIBNAME, luaopen_string },
		{ LUA_TABLIBNAME, luaopen_table },
		{ LUA_MATHLIBNAME, luaopen_math },
	};
	struct ld *ld = lua_touserdata(L, 1);
	int g, set, lines, env;
	size_t i;

	ld->L = L;
	for (i = 0; i < NELEM(libs); i++) {
		luaL_requiref(L, libs[i].name, libs[i].open, 1);
		lua_pop(L, 1);
	}
	lua_pushglobaltable(L);
	g = lua_gettop(L);
	for (i = 0; i < NELEM(drop); i++) {
		lua_pushnil(L);
		lua_setfield(L, g, drop[i]);
	}
	lua_getfield(L, g, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	lua_pushinteger(L, KIB);
	lua_setfield(L, g, "KiB");
	lua_pushinteger(L, MIB);
	lua_setfield(L, g, "MiB");
	lua_pushinteger(L, GIB);
	lua_setfield(L, g, "GiB");

	/* _ENV is an empty proxy: reads fall through, writes are recorded */
	lua_newtable(L);
	set = lua_gettop(L);
	lua_newtable(L);
	lines = lua_gettop(L);
	lua_newtable(L);
	env = lua_gettop(L);
	lua_createtable(L, 0, 3);
	lua_pushvalue(L, set);
	lua_pushvalue(L, g);
	lua_pushcclosure(L, env_index, 2);
	lua_setfield(L, -2, "__index");
	lua_pushvalue(L, set);
	lua_pushvalue(L, lines);
	lua_pushcclosure(L, env_newindex, 2);
	lua_setfield(L, -2, "__newindex");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, env);
	lua_pushvalue(L, env);
	lua_setfield(L, g, LUA_GNAME);

	ld->load_status = luaL_loadbufferx(L, ld->text, ld->len, "=" CHUNK_MARK, "t");
	if (ld->load_status != LUA_OK)
		return lua_error(L);
	lua_pushvalue(L, env);
	if (!lua_setupvalue(L, -2, 1))
		lua_pop(L, 1);
	lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, LOAD_HOOK_EVERY);
	lua_call(L, 0, 0);

	/* no collection (hence no finalizer) runs while C walks the tables */
	lua_gc(L, LUA_GCSTOP);
	ld->g = g;
	ld->set = set;
	ld->lines = lines;
	check_globals(ld);
	return 0;
}

/* Turns the error of a failed lua_pcall() into ld->err. */
static void
lua_failure(struct ld *ld, lua_State *L, int status)
{
	size_t used = 0, mark = strlen(CHUNK_MARK ":");
	const char *msg, *p;

	if (status == LUA_ERRMEM || ld->load_status == LUA_ERRMEM) {
		appendf(ld->err, sizeof ld->err, &used, "%s: not enough memory (a "
		    "config may use at most %zu MiB)", ld->path,
		    LOAD_MEM_MAX / 1024 / 1024);
		return;
	}
	if (lua_type(L, -1) != LUA_TSTRING) {
		appendf(ld->err, sizeof ld->err, &used, "%s: error object is a %s value",
		    ld->path, luaL_typename(L, -1));
		return;
	}
	msg = lua_tostring(L, -1);
	if (strncmp(msg, CHUNK_MARK ":", mark) != 0)
		appendf(ld->err, sizeof ld->err, &used, "%s: ", ld->path);
	for (p = msg; *p;) {
		if (strncmp(p, CHUNK_MARK ":", mark) == 0) {
			appendf(ld->err, sizeof ld->err, &used, "%s:", ld->path);
			p += mark;
		} else
			appendf(ld->err, sizeof ld->err, &used, "%c", *p++);
	}
}

/* ---------------------------------------------------------------------- */
/* loading */

static void
fileid_of(struct fileid *id, const struct stat *st)
{
	memset(id, 0, sizeof *id);
	id->ok = 1;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
}

static int
fileid_same(const struct fileid *a, const struct fileid *b)
{
	if (a->ok != b->ok)
		return 0;
	if (!a->ok)
		return a->err == b->err;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec;
}

/*
 * Reads the whole file (at most LOAD_FILE_MAX bytes) into *out (caller
 * frees), filling *id and c->mtime. Returns 0, or -1 with ld->err set.
 */
static int
read_text(struct ld *ld, char **out, size_t *outlen, struct fileid *id)
{
	struct stat st;
	char *buf = NULL, ebuf[128];
	size_t cap, len = 0;
	int fd, rc = -1, e;
	ssize_t r;
	size_t used = 0;

	fd = open(ld->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		e = errno;
		id->ok = 0;
		id->err = e;
		appendf(ld->err, sizeof ld->err, &used, "%s: cannot open: %s",
		    ld->path, strerror_r(e, ebuf, sizeof ebuf));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		id->ok = 0;
		id->err = e;
		appendf(ld->err, sizeof ld->err, &used, "%s: cannot stat: %s",
		    ld->path, strerror_r(e, ebuf, sizeof ebuf));
		goto out;
	}
	fileid_of(id, &st);
	ld->c->mtime = st.st_mtime;
	if (!S_ISREG(st.st_mode)) {
		appendf(ld->err, sizeof ld->err, &used, "%s: not a regular file",
		    ld->path);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > LOAD_FILE_MAX)
		goto too_large;
	cap = (size_t)st.st_size + 1;
	if (!(buf = malloc(cap))) {
		appendf(ld->err, sizeof ld->err, &used, "%s: out of memory", ld->path);
		goto out;
	}
	for (;;) {
		if (len == cap) {    /* the file grew while we read it */
			char *nb;
			if (cap > LOAD_FILE_MAX)
				goto too_large;
			cap = cap * 2 > LOAD_FILE_MAX + 1 ? LOAD_FILE_MAX + 1 : cap * 2;
			if (!(nb = realloc(buf, cap))) {
				appendf(ld->err, sizeof ld->err, &used, "%s: out of memory",
				    ld->path);
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			appendf(ld->err, sizeof ld->err, &used, "%s: cannot read: %s",
			    ld->path, strerror_r(e, ebuf, sizeof ebuf));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > LOAD_FILE_MAX)
		goto too_large;
	if (len > 0 && buf[0] == LUA_SIGNATURE[0]) {
		appendf(ld->err, sizeof ld->err, &used, "%s: a precompiled (binary) "
		    "chunk is refused: the config must be Lua source text", ld->path);
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
	goto out;
too_large:
	appendf(ld->err, sizeof ld->err, &used, "%s: file too large (at most %zu "
	    "bytes)", ld->path, LOAD_FILE_MAX);
out:
	free(buf);
	close(fd);
	return rc;
}

/* config_load() with the identity of the file read returned in *id. */
static int
load_file(const char *path, struct config *c, char *errbuf, size_t errlen,
    struct fileid *id)
{
	struct ld ld;
	lua_State *L = NULL;
	char *text = NULL;
	size_t len = 0, skip = 0, used = 0, i;
	int rc = -1, status;

	memset(&ld, 0, sizeof ld);
	memset(id, 0, sizeof *id);
	config_defaults(c);
	if (errbuf && errlen)
		errbuf[0] = '\0';
	ld.path = path ? path : "";
	ld.c = c;
	ld.mem_max = LOAD_MEM_MAX;
	if (!path || !*path) {
		appendf(ld.err, sizeof ld.err, &used, "config: no file given");
		goto out;
	}
	if (strlen(path) >= sizeof c->path) {
		appendf(ld.err, sizeof ld.err, &used, "%.64s...: path too long", path);
		goto out;
	}
	if (read_text(&ld, &text, &len, id) != 0)
		goto out;
	/* as luaL_loadfilex(): skip a UTF-8 BOM; blank a first "#" line */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	if (skip < len && text[skip] == '#')
		for (i = skip; i < len && text[i] != '\n' && text[i] != '\r'; i++)
			text[i] = ' ';
	ld.text = text + skip;
	ld.len = len - skip;
	if (check_no_env(&ld) != 0)
		goto out;

	L = lua_newstate(sandbox_alloc, &ld);
	if (!L) {
		appendf(ld.err, sizeof ld.err, &used, "%s: cannot create a Lua state",
		    path);
		goto out;
	}
	lua_pushcfunction(L, sandbox_main);
	lua_pushlightuserdata(L, &ld);
	status = lua_pcall(L, 1, 0, 0);
	if (status != LUA_OK)
		lua_failure(&ld, L, status);
	else if (!ld.failed)
		rc = 0;
out:
	if (L)
		lua_close(L);
	free(text);
	if (rc == 0)
		copy_str(c->path, sizeof c->path, path);
	else if (errbuf && errlen) {
		if (!ld.err[0])
			snprintf(ld.err, sizeof ld.err, "%s: invalid config", ld.path);
		snprintf(errbuf, errlen, "%s", ld.err);
		one_line(errbuf);
	}
	return rc;
}

/*
 * Loads and validates the Lua file at `path` into `c`: defaults first, then
 * the file's values merged over them (docs/CONFIG.md). Returns 0, or -1 with
 * one line "FILE:LINE: KEY: what is wrong" (or Lua's own "FILE:LINE: ...",
 * or "FILE: cannot open: ...") in errbuf, always NUL-terminated when errlen
 * is non-zero; `c` is then unspecified. Thread-safe; never exits.
 */
int
config_load(const char *path, struct config *c, char *errbuf, size_t errlen)
{
	struct fileid id;

	return load_file(path, c, errbuf, errlen, &id);
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

/* ---------------------------------------------------------------------- */
/* printing as Lua */

static void
put_lua_string(FILE *fp, const char *s, size_t len)
{
	size_t i;

	fputc('"', fp);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", fp);
		else if (ch == '\t')
			fputs("\\t", fp);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(fp, "\\%03u", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static void
put_lua_key(FILE *fp, const char *name)
{
	if (is_lua_name(name))
		fputs(name, fp);
	else {
		fputc('[', fp);
		put_lua_string(fp, name, strlen(name));
		fputc(']', fp);
	}
}

static void
put_int(FILE *fp, int64_t v, int size)
{
	if (size && v > 0 && v % GIB == 0)
		fprintf(fp, "%lld * GiB", (long long)(v / GIB));
	else if (size && v > 0 && v % MIB == 0)
		fprintf(fp, "%lld * MiB", (long long)(v / MIB));
	else if (size && v > 0 && v % KIB == 0)
		fprintf(fp, "%lld * KiB", (long long)(v / KIB));
	else
		fprintf(fp, "%lld", (long long)v);
}

/* Prints the value of a non-custom field of `base`. */
static void
put_value(FILE *fp, const void *base, const struct field *f)
{
	const char *p = (const char *)base + f->off;
	size_t item, i, n;

	switch (f->type) {
	case F_INT:
		put_int(fp, get_i64(base, f->off), f->size);
		break;
	case F_BOOL:
		fputs(get_int(base, f->off) ? "true" : "false", fp);
		break;
	case F_STR:
	case F_NAME:
		put_lua_string(fp, p, strlen(p));
		break;
	case F_ENUM:
		put_lua_string(fp, name_of(f->names, f->nnames, get_int(base, f->off)),
		    strlen(name_of(f->names, f->nnames, get_int(base, f->off))));
		break;
	case F_ADDRS:
	case F_ORIGINS:
		item = f->type == F_ADDRS ? CONFIG_ADDR_MAX : CONFIG_ORIGIN_MAX;
		n = (size_t)get_int(base, f->n_off);
		fputs(n ? "{ " : "{}", fp);
		for (i = 0; i < n; i++) {
			const char *s = p + i * item;
			if (i)
				fputs(", ", fp);
			put_lua_string(fp, s, strnlen(s, item));
		}
		if (n)
			fputs(" }", fp);
		break;
	case F_RECORD:
		fputs("{ ", fp);
		for (i = 0; i < f->nsub; i++) {
			fprintf(fp, "%s%s = ", i ? ", " : "", f->sub[i].name);
			put_value(fp, base, &f->sub[i]);
		}
		fputs(" }", fp);
		break;
	case F_CUSTOM:
		break;
	}
}

static int
print_plans(const struct config *c, FILE *fp)
{
	static const struct field plan_rec = { .name = "plan", RECORD(plan_fields) };
	int i;

	fputs("plans = {\n", fp);
	for (i = 0; i < c->n_plans; i++) {
		fputs("  ", fp);
		put_lua_key(fp, c->plans[i].name);
		fputs(" = ", fp);
		put_value(fp, &c->plans[i], &plan_rec);
		fputs(",\n", fp);
	}
	fputs("}\n", fp);
	return 0;
}

static int
print_rate_limits(const struct config *c, FILE *fp)
{
	static const struct field rule_rec = { .name = "rule", RECORD(rule_fields) };
	int i;

	if (c->n_rate_limits == 0) {
		fputs("rate_limits = {}\n", fp);
		return 0;
	}
	fputs("rate_limits = {\n", fp);
	for (i = 0; i < c->n_rate_limits; i++) {
		fputs("  ", fp);
		put_value(fp, &c->rate_limits[i], &rule_rec);
		fputs(",\n", fp);
	}
	fputs("}\n", fp);
	return 0;
}

/*
 * Prints a JSON string of our own serialiser (check_kdf()) at *pp as a Lua
 * string; JSON's escapes \" \\ \n \r \t are Lua's too, and \u00XX (only
 * ever a control byte here) becomes \xXX. Returns -1 if it is not one.
 */
static int
put_json_as_lua(FILE *fp, const char **pp)
{
	const char *p = *pp;

	if (*p++ != '"')
		return -1;
	fputc('"', fp);
	while (*p && *p != '"') {
		if (p[0] == '\\' && p[1] == 'u' && p[2] == '0' && p[3] == '0' &&
		    p[4] && p[5]) {
			fprintf(fp, "\\x%c%c", p[4], p[5]);
			p += 6;
		} else if (p[0] == '\\' && p[1]) {
			fputc(p[0], fp);
			fputc(p[1], fp);
			p += 2;
		} else
			fputc(*p++, fp);
	}
	if (*p != '"')
		return -1;
	fputc('"', fp);
	*pp = p + 1;
	return 0;
}

static int
print_kdf(const struct config *c, FILE *fp)
{
	const char *p = c->prelogin_fake_kdf_json, *q;
	char key[CONFIG_KDF_JSON_MAX];
	int first = 1;

	if (*p++ != '{')
		goto bad;
	fputs("prelogin_fake_kdf = {", fp);
	while (*p && *p != '}') {
		if (!first && *p++ != ',')
			goto bad;
		fputs(first ? " " : ", ", fp);
		first = 0;
		/* a plain name key prints bare, anything else as ["..."] */
		for (q = p + 1; *q && *q != '"' && *q != '\\'; q++)
			;
		if (*p == '"' && *q == '"' && (size_t)(q - p - 1) < sizeof key) {
			memcpy(key, p + 1, (size_t)(q - p - 1));
			key[q - p - 1] = '\0';
		} else
			key[0] = '\0';
		if (is_lua_name(key)) {
			fputs(key, fp);
			p = q + 1;
		} else {
			fputc('[', fp);
			if (put_json_as_lua(fp, &p) != 0)
				goto bad;
			fputc(']', fp);
		}
		if (*p++ != ':')
			goto bad;
		fputs(" = ", fp);
		if (*p == '"') {
			if (put_json_as_lua(fp, &p) != 0)
				goto bad;
		} else {
			for (; *p && *p != ',' && *p != '}'; p++)
				fputc(*p, fp);
		}
	}
	if (*p != '}')
		goto bad;
	fputs(first ? "}\n" : " }\n", fp);
	return 0;
bad:
	fputs("\n-- prelogin_fake_kdf: cannot print malformed JSON\n", fp);
	return -1;
}

/*
 * Prints `c` as a Lua config file to `fp`: every key with its effective
 * value, in the order of config.md, byte sizes as N * KiB/MiB/GiB. The
 * output loads back with config_load() to an equal config. Returns 0, or -1
 * on a write error.
 */
int
config_print(const struct config *c, FILE *fp)
{
	size_t i;
	int rc = 0;

	fputs("-- blindsync: effective configuration", fp);
	if (c->path[0]) {
		fputs(" of ", fp);
		put_lua_string(fp, c->path, strlen(c->path));
	} else
		fputs(" (built-in defaults)", fp);
	fputc('\n', fp);
	for (i = 0; i < NTOP; i++) {
		const struct field *f = &top_fields[i];

		if (f->type == F_CUSTOM) {
			if (f->print(c, fp) != 0)
				rc = -1;
		} else if (f->type == F_RECORD && f->nsub > 3) {
			fprintf(fp, "%s = {\n", f->name);
			for (size_t k = 0; k < f->nsub; k++) {
				fprintf(fp, "  %s = ", f->sub[k].name);
				put_value(fp, c, &f->sub[k]);
				fputs(",\n", fp);
			}
			fputs("}\n", fp);
		} else {
			fprintf(fp, "%s = ", f->name);
			put_value(fp, c, f);
			fputc('\n', fp);
		}
	}
	if (fflush(fp) != 0 || ferror(fp))
		rc = -1;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* snapshots */

struct snap {
	struct config cfg;   /* first: config_release() gets back to the snap */
	int refs;            /* the current pointer holds one */
};

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;   /* cur, refs */
static pthread_mutex_t reload_mu = PTHREAD_MUTEX_INITIALIZER; /* the rest */
static struct snap *cur;
static char snap_path[sizeof(((struct config *)0)->path)];
static int snap_has_path;
static struct fileid snap_seen;        /* the file as last read (good or bad) */
static struct timespec snap_checked;   /* last stat, CLOCK_MONOTONIC */
static int snap_has_checked;

static void
snap_drop(struct snap *s)
{
	int last;

	if (!s)
		return;
	pthread_mutex_lock(&snap_mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&snap_mu);
	if (last)
		free(s);
}

/* Makes `s` current (its one reference moves to `cur`); drops the old one. */
static void
snap_swap(struct snap *s)
{
	struct snap *old;

	pthread_mutex_lock(&snap_mu);
	old = cur;
	cur = s;
	pthread_mutex_unlock(&snap_mu);
	snap_drop(old);
}

/* With reload_mu held: loads snap_path and swaps it in when valid. */
static int
snap_reload_locked(char *errbuf, size_t errlen)
{
	struct snap *s;
	struct fileid id;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!cur) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "config: not initialised");
		return -1;
	}
	if (!snap_has_path)
		return 0;
	if (!(s = malloc(sizeof *s))) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: out of memory", snap_path);
		return -1;
	}
	s->refs = 1;
	if (load_file(snap_path, &s->cfg, errbuf, errlen, &id) != 0) {
		snap_seen = id;
		free(s);
		return -1;
	}
	snap_seen = id;
	snap_swap(s);
	return 0;
}

/*
 * Loads the config at `path` (built-in defaults when path is NULL) and makes
 * it the current snapshot, replacing any earlier one. Returns 0, or -1 with
 * errbuf filled (the current snapshot, if any, is kept).
 */
int
config_init(const char *path, char *errbuf, size_t errlen)
{
	struct snap *s;
	struct fileid id;
	int rc = -1;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	pthread_mutex_lock(&reload_mu);
	if (path && strlen(path) >= sizeof snap_path) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%.64s...: path too long", path);
		goto out;
	}
	if (!(s = malloc(sizeof *s))) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "config: out of memory");
		goto out;
	}
	s->refs = 1;
	memset(&id, 0, sizeof id);
	if (path) {
		if (load_file(path, &s->cfg, errbuf, errlen, &id) != 0) {
			free(s);
			goto out;
		}
		copy_str(snap_path, sizeof snap_path, path);
	} else {
		config_defaults(&s->cfg);
		snap_path[0] = '\0';
	}
	snap_has_path = path != NULL;
	snap_seen = id;
	snap_has_checked = 0;
	snap_swap(s);
	rc = 0;
out:
	pthread_mutex_unlock(&reload_mu);
	return rc;
}

/*
 * The current snapshot with a reference held, or NULL before config_init().
 * The caller must config_release() it; the snapshot never changes.
 */
const struct config *
config_acquire(void)
{
	struct snap *s;

	pthread_mutex_lock(&snap_mu);
	s = cur;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&snap_mu);
	return s ? &s->cfg : NULL;
}

/*
 * Drops a reference taken by config_acquire(); the snapshot is freed when it
 * is no longer current and nobody holds it. NULL is a no-op.
 */
void
config_release(const struct config *c)
{
	if (!c)
		return;
	snap_drop((struct snap *)(void *)((char *)(uintptr_t)c - offsetof(struct snap, cfg)));
}

/*
 * Loads the file again and makes it current if it validates. Returns 0 (also
 * when running on built-in defaults, which never change), or -1 with errbuf
 * filled and the old snapshot kept.
 */
int
config_reload(char *errbuf, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&reload_mu);
	rc = snap_reload_locked(errbuf, errlen);
	pthread_mutex_unlock(&reload_mu);
	return rc;
}

/*
 * Reloads when the file changed (device, inode, size or mtime differ from
 * the last read, good or bad), looking at most once a second. Returns 1
 * after a reload, 0 if nothing changed or it is too soon, -1 if the reload
 * failed (errbuf filled; reported once per change of the file).
 */
int
config_reload_if_changed(char *errbuf, size_t errlen)
{
	struct timespec now;
	struct stat st;
	struct fileid id;
	int rc = 0;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	pthread_mutex_lock(&reload_mu);
	if (!cur || !snap_has_path)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (snap_has_checked && (now.tv_sec - snap_checked.tv_sec) * 1000000000LL +
	    (now.tv_nsec - snap_checked.tv_nsec) < 1000000000LL)
		goto out;
	snap_checked = now;
	snap_has_checked = 1;
	memset(&id, 0, sizeof id);
	if (stat(snap_path, &st) == 0)
		fileid_of(&id, &st);
	else
		id.err = errno;
	if (fileid_same(&id, &snap_seen))
		goto out;
	rc = snap_reload_locked(errbuf, errlen) == 0 ? 1 : -1;
out:
	pthread_mutex_unlock(&reload_mu);
	return rc;
}

/*
 * Drops the current snapshot (freed once the last holder releases it) and
 * forgets the path; config_acquire() returns NULL until config_init().
 */
void
config_shutdown(void)
{
	pthread_mutex_lock(&reload_mu);
	snap_swap(NULL);
	snap_path[0] = '\0';
	snap_has_path = 0;
	memset(&snap_seen, 0, sizeof snap_seen);
	snap_has_checked = 0;
	pthread_mutex_unlock(&reload_mu);
}
