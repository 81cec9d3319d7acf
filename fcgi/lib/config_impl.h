/*
 * config_impl.h: private to the config module (config*.c); nothing else may
 * include it.
 *
 * The module is split by job: config.c (the API, the names, the defaults,
 * the field tables and the checks of values), config_lua.c (reading the file
 * and running it in the Lua sandbox), config_lex.c (the tokenizer that finds
 * the line of an error), config_print.c (printing a config as Lua) and
 * config_snap.c (the reference-counted snapshots of threaded handlers). This
 * header holds what they share: the loader's state, the field table types
 * and the functions one file calls in another. Those carry the prefix cfg_
 * so that they never meet another module's names in libblindsync.a.
 */
#ifndef BLINDSYNC_CONFIG_IMPL_H
#define BLINDSYNC_CONFIG_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lua.h>

#include "config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define KIB 1024LL
#define MIB (1024LL * KIB)
#define GIB (1024LL * MIB)

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

#define RECORD(f) .type = F_RECORD, .sub = (f), .nsub = NELEM(f)

/* The top-level keys, in the order of config.md (and of config_print). */
#define CFG_NTOP 19
extern const struct field cfg_top_fields[CFG_NTOP];
extern const struct field cfg_plan_fields[6];   /* one plan's keys */
extern const struct field cfg_rule_fields[4];   /* one rate-limit rule's keys */

static inline void
set_i64(void *base, size_t off, int64_t v)
{
	memcpy((char *)base + off, &v, sizeof v);
}

static inline int64_t
get_i64(const void *base, size_t off)
{
	int64_t v;

	memcpy(&v, (const char *)base + off, sizeof v);
	return v;
}

static inline void
set_int(void *base, size_t off, int v)
{
	memcpy((char *)base + off, &v, sizeof v);
}

static inline int
get_int(const void *base, size_t off)
{
	int v;

	memcpy(&v, (const char *)base + off, sizeof v);
	return v;
}

/* ---------------------------------------------------------------------- */
/* config.c: names, helpers, key paths, checks */

/* names[v], or "?" for a v outside 0..n-1. */
const char *cfg_name_of(const char *const *names, size_t n, int v);
/* snprintf "%s": src into dst (size bytes), truncated, NUL-terminated. */
void cfg_copy_str(char *dst, size_t size, const char *src);
/* Is s a Lua name that is not a keyword (a key that prints bare)? */
int cfg_is_lua_name(const char *s);
/* Appends printf output to buf (size n), tracking *used; truncates. */
void cfg_appendf(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Replaces control bytes so that a message is exactly one line. */
void cfg_one_line(char *s);
/* Pushes a name, or the table key at stack index idx, as a key path part. */
void cfg_part_name(struct ld *ld, const char *name);
void cfg_part_key(struct ld *ld, int idx);
/* Fails with "FILE:LINE: unknown key 'KEY.PATH'". Returns -1. */
int cfg_fail_unknown(struct ld *ld);
/*
 * Checks the value at the top of the Lua stack against `f` and stores it
 * into `base`. Returns 0, or -1 with ld->err set (it may raise a Lua error).
 */
int cfg_check_field(struct ld *ld, const struct field *f, void *base);

/* ---------------------------------------------------------------------- */
/* config_lex.c: the line of a nested key, and the _ENV ban */

/*
 * The line to report for ld's current key path: the line of its innermost
 * part that can be found in the text, else ld->top_line. Never fails.
 */
int cfg_locate(const struct ld *ld);
/* Refuses the name _ENV anywhere in the text: 0, or -1 with ld->err set. */
int cfg_check_no_env(struct ld *ld);

/* ---------------------------------------------------------------------- */
/* config_lua.c: reading and running the file */

/* config_load() with the identity of the file read returned in *id. */
int cfg_load_file(const char *path, struct config *c, char *errbuf, size_t errlen,
    struct fileid *id);
/* The identity of the file `st` describes; are two identities the same? */
void cfg_fileid_of(struct fileid *id, const struct stat *st);
int cfg_fileid_same(const struct fileid *a, const struct fileid *b);

/* ---------------------------------------------------------------------- */
/* config_print.c: the custom keys' printers of cfg_top_fields[] */

int cfg_print_kdf(const struct config *c, FILE *fp);
int cfg_print_plans(const struct config *c, FILE *fp);
int cfg_print_rate_limits(const struct config *c, FILE *fp);

#endif
