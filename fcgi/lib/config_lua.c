/*
 * config_lua.c: reading the config file and running it in the Lua sandbox;
 * config_load().
 *
 * The sandbox: only the base, string, table and math libraries; no dofile,
 * loadfile, load, require, collectgarbage, print, warn or string.dump (the
 * file system, the process, bytecode); no pcall or xpcall (they could catch
 * the limit errors and carry on); no rawset (it would bypass the recording
 * of assignments); no setmetatable (Lua 5.4 runs __gc finalizers with hooks
 * off, so one could loop forever at lua_close(); and with no metatables a
 * config holds plain data). Text chunks only; memory capped by a custom
 * allocator; VM instructions capped by a count hook; string.rep of empty
 * strings answered at once (bounded_rep: Lua's own loops n times for an
 * empty result, so string.rep("", 1e18) cost no memory and no instruction
 * but never returned; found by make fuzz). The cap does not otherwise cover time spent inside one C
 * library call, e.g. a pathological string.find() pattern: the file is trusted to be written by the operator, the sandbox
 * keeps mistakes from hanging or harming the server. Every global assignment
 * goes through a C __newindex that records its line, so that an error can
 * name "file:line". What the file set is then checked through the field
 * tables of config.c.
 *
 * This file must never: run Lua after config_load() returns, give the file
 * any way to reach the file system, the process or bytecode, let a config
 * run or allocate without bound, or exit/abort on anything the file
 * contains. Lua errors unwind with longjmp, so no C allocation may be held
 * across a Lua API call that can raise one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "config.h"
#include "config_impl.h"

#define LOAD_MEM_MAX ((size_t)8 * 1024 * 1024) /* bytes the Lua state may hold */
#define LOAD_INSN_MAX 10000000L                /* VM instructions per load */
#define LOAD_HOOK_EVERY 1000                   /* count hook period */
#define LOAD_FILE_MAX ((size_t)1024 * 1024)    /* config file size */

/*
 * The chunk is loaded under this name, so Lua's own messages read
 * "@config@:12: ..."; the prefix is replaced by the path as given (Lua
 * would shorten a long "@path" chunk name to 60 bytes).
 */
#define CHUNK_MARK "@config@"

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
	for (i = 0; i < CFG_NTOP; i++)
		if (strcmp(lua_tostring(L, idx), cfg_top_fields[i].name) == 0)
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
	int line[CFG_NTOP], order[CFG_NTOP], nset = 0, uline = 0, have_u = 0, uslot, k, j;
	size_t i;

	luaL_checkstack(L, 32, "config walk");
	for (i = 0; i < CFG_NTOP; i++) {
		lua_pushstring(L, cfg_top_fields[i].name);
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
			cfg_part_key(ld, uslot);
			return cfg_fail_unknown(ld);
		}
		if (k == nset)
			break;
		f = &cfg_top_fields[order[k]];
		ld->top_line = line[order[k]];
		ld->nparts = 0;
		cfg_part_name(ld, f->name);
		lua_pushstring(L, f->name);
		lua_rawget(L, ld->set);
		if (cfg_check_field(ld, f, ld->c) != 0)
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
 * cfg_load_file(); a validation error sets ld->failed and returns normally.
 */
/*
 * string.rep without its one unbounded loop: Lua's own repeats n times even
 * when the result is empty (string.rep("", 1e18) never returns, and neither
 * the memory cap nor the instruction hook sees it), so an empty string with
 * an empty separator gives "" at once. Anything else goes to the original
 * (upvalue 1), which sizes its buffer before its loop, so the memory cap
 * bounds it as before.
 */
static int
bounded_rep(lua_State *L)
{
	size_t l, lsep = 0;

	luaL_checklstring(L, 1, &l);
	luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &lsep);
	if (l == 0 && lsep == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

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
	lua_getfield(L, -1, "rep");
	lua_pushcclosure(L, bounded_rep, 1);
	lua_setfield(L, -2, "rep");
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
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: not enough memory (a "
		    "config may use at most %zu MiB)", ld->path,
		    LOAD_MEM_MAX / 1024 / 1024);
		return;
	}
	if (lua_type(L, -1) != LUA_TSTRING) {
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: error object is a %s value",
		    ld->path, luaL_typename(L, -1));
		return;
	}
	msg = lua_tostring(L, -1);
	if (strncmp(msg, CHUNK_MARK ":", mark) != 0)
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: ", ld->path);
	for (p = msg; *p;) {
		if (strncmp(p, CHUNK_MARK ":", mark) == 0) {
			cfg_appendf(ld->err, sizeof ld->err, &used, "%s:", ld->path);
			p += mark;
		} else
			cfg_appendf(ld->err, sizeof ld->err, &used, "%c", *p++);
	}
}

/* ---------------------------------------------------------------------- */
/* loading */

/* Fills *id with the identity of the file `st` describes. */
void
cfg_fileid_of(struct fileid *id, const struct stat *st)
{
	memset(id, 0, sizeof *id);
	id->ok = 1;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
}

/* Do two identities name the same file, unchanged (or the same failure)? */
int
cfg_fileid_same(const struct fileid *a, const struct fileid *b)
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
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: cannot open: %s",
		    ld->path, strerror_r(e, ebuf, sizeof ebuf));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		id->ok = 0;
		id->err = e;
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: cannot stat: %s",
		    ld->path, strerror_r(e, ebuf, sizeof ebuf));
		goto out;
	}
	cfg_fileid_of(id, &st);
	ld->c->mtime = st.st_mtime;
	if (!S_ISREG(st.st_mode)) {
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: not a regular file",
		    ld->path);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > LOAD_FILE_MAX)
		goto too_large;
	cap = (size_t)st.st_size + 1;
	if (!(buf = malloc(cap))) {
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: out of memory", ld->path);
		goto out;
	}
	for (;;) {
		if (len == cap) {    /* the file grew while we read it */
			char *nb;
			if (cap > LOAD_FILE_MAX)
				goto too_large;
			cap = cap * 2 > LOAD_FILE_MAX + 1 ? LOAD_FILE_MAX + 1 : cap * 2;
			if (!(nb = realloc(buf, cap))) {
				cfg_appendf(ld->err, sizeof ld->err, &used, "%s: out of memory",
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
			cfg_appendf(ld->err, sizeof ld->err, &used, "%s: cannot read: %s",
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
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: a precompiled (binary) "
		    "chunk is refused: the config must be Lua source text", ld->path);
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
	goto out;
too_large:
	cfg_appendf(ld->err, sizeof ld->err, &used, "%s: file too large (at most %zu "
	    "bytes)", ld->path, LOAD_FILE_MAX);
out:
	free(buf);
	close(fd);
	return rc;
}

/* config_load() with the identity of the file read returned in *id. */
int
cfg_load_file(const char *path, struct config *c, char *errbuf, size_t errlen,
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
		cfg_appendf(ld.err, sizeof ld.err, &used, "config: no file given");
		goto out;
	}
	if (strlen(path) >= sizeof c->path) {
		cfg_appendf(ld.err, sizeof ld.err, &used, "%.64s...: path too long", path);
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
	if (cfg_check_no_env(&ld) != 0)
		goto out;

	L = lua_newstate(sandbox_alloc, &ld);
	if (!L) {
		cfg_appendf(ld.err, sizeof ld.err, &used, "%s: cannot create a Lua state",
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
		cfg_copy_str(c->path, sizeof c->path, path);
	else if (errbuf && errlen) {
		if (!ld.err[0])
			snprintf(ld.err, sizeof ld.err, "%s: invalid config", ld.path);
		snprintf(errbuf, errlen, "%s", ld.err);
		cfg_one_line(errbuf);
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

	return cfg_load_file(path, c, errbuf, errlen, &id);
}

