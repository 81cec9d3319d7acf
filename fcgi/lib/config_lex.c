/*
 * config_lex.c: the coarse Lua tokenizer of the config loader, used to find
 * the line of an error and to refuse the name _ENV.
 *
 * Lua records only the line where a global assignment executed (for a
 * multi-line table, its last line), so on an error the file's text is
 * tokenised and searched for the key path being checked. The tokenizer knows
 * names, `=`, `.`, separators and brackets, and skips strings, numbers and
 * comments; it never runs or interprets anything.
 *
 * This file must never: read past the text it is given, or fail an error
 * report because a line cannot be found (the top-level line stands in).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

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
int
cfg_locate(const struct ld *ld)
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
int
cfg_check_no_env(struct ld *ld)
{
	struct tok *t = NULL;
	size_t n = 0, i, used = 0;
	int line = 0;

	if (lex_all(ld->text, ld->len, &t, &n) != 0) {
		cfg_appendf(ld->err, sizeof ld->err, &used, "%s: out of memory", ld->path);
		return -1;
	}
	for (i = 0; i < n && !line; i++)
		if (tok_is(ld->text, &t[i], "_ENV"))
			line = t[i].line;
	free(t);
	if (!line)
		return 0;
	cfg_appendf(ld->err, sizeof ld->err, &used, "%s:%d: _ENV is reserved: a "
	    "config sets its keys as plain globals", ld->path, line);
	return -1;
}

