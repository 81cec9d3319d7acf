/*
 * json.c: strict bounded parsing over json-c, typed getters, and a direct
 * writer. Never trusts the input: every length is checked before use, and
 * no error message echoes request content other than field names we define.
 */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bsc.h"
#include "jstream.h"

static void setmsg(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void setmsg(char *msg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, ERR_MSG_MAX, fmt, ap);
	va_end(ap);
}

/* JSON white space (RFC 8259): what may separate tokens. */
static int json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A character of a bare token: a number, true, false or null (and the
 * letters of the NaN/Infinity json-c would refuse in strict mode anyway). */
static int bare_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c == '-' || c == '+' || c == '.';
}

/*
 * The pre-scan, one pass over the text before json-c allocates anything:
 * counts the values the document holds (every object, array, string that
 * is not a member name, and bare token), stopping as soon as the count is
 * over max (the caller then refuses without building a tree). It also
 * finds the first quote character outside a double-quoted string, which
 * json-c 0.16's strict mode still takes as a string delimiter: its offset
 * goes to *quote (else -1). For a document json-c accepts, the count is
 * exactly the number of values in the tree json-c builds, unless an object
 * repeats a member name (json-c then keeps only the last, silently), which
 * is how json_parse() finds duplicates: it compares the two counts.
 */
static size_t prescan(const char *d, size_t len, size_t max, long *quote)
{
	size_t n = 0, i, j;
	int in_bare = 0;

	*quote = -1;
	for (i = 0; i < len && n <= max; i++) {
		char c = d[i];
		if (c == '"') {
			in_bare = 0;
			for (i++; i < len && d[i] != '"'; i++)
				if (d[i] == '\\')
					i++;
			/* a member name is followed by ':'; anything else is a value */
			for (j = i + 1; j < len && json_space(d[j]); j++)
				;
			if (j >= len || d[j] != ':')
				n++;
		} else if (c == '\'') {
			*quote = (long)i;
			return n;
		} else if (c == '{' || c == '[') {
			in_bare = 0;
			n++;
		} else if (bare_char(c)) {
			if (!in_bare)
				n++;
			in_bare = 1;
		} else {
			in_bare = 0;
		}
	}
	return n;
}

/* The number of values in a parsed tree (a JSON null, NULL, counts one).
 * Recursion is bounded by the tokener's depth limit. */
static size_t tree_values(struct json_object *o)
{
	size_t n = 1, i, len;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			(void)key;
			n += tree_values(val);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += tree_values(json_object_array_get_idx(o, i));
	}
	return n;
}

size_t json_values_cap(int64_t max_push_records)
{
	if (max_push_records < 1)
		max_push_records = 1;
	if ((uint64_t)max_push_records > JSON_VALUES_CAP_MAX / JSON_VALUES_PER_RECORD)
		return JSON_VALUES_CAP_MAX;
	return (size_t)max_push_records * JSON_VALUES_PER_RECORD + JSON_VALUES_BASE;
}

enum err json_parse(const char *data, size_t len, struct json_object **out, char *msg)
{
	return json_parse_max(data, len, JSON_VALUES_CAP_MAX, out, msg);
}

enum err json_parse_max(const char *data, size_t len, size_t max_values, struct json_object **out,
    char *msg)
{
	*out = NULL;
	if (len == 0) {
		setmsg(msg, "The request body is empty; a JSON object was expected.");
		return ERR_INVALID_JSON;
	}
	if (len > INT32_MAX) {
		setmsg(msg, "The request body is too large to parse.");
		return ERR_INVALID_JSON;
	}
	if (memchr(data, '\0', len)) {
		setmsg(msg, "The request body contains a NUL byte.");
		return ERR_INVALID_JSON;
	}
	long q;
	size_t nvalues = prescan(data, len, max_values, &q);
	if (q >= 0) {
		setmsg(msg, "The request body is not valid JSON (single quote at byte %ld).", q);
		return ERR_INVALID_JSON;
	}
	if (nvalues > max_values) {
		setmsg(msg, "The request body holds more than %zu JSON values.", max_values);
		return ERR_BODY_TOO_LARGE;
	}
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return ERR_INTERNAL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *obj = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	enum err rc = ERR_OK;
	if (jerr == json_tokener_continue) {
		/* a bare number at the very end needs an explicit end of input */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	if (jerr != json_tokener_success || !obj) {
		setmsg(msg, "The request body is not valid JSON (%s at byte %zu).",
		    json_tokener_error_desc(jerr), end);
		rc = ERR_INVALID_JSON;
		goto out;
	}
	while (end < len && json_space(data[end]))
		end++;
	if (end != len) {
		setmsg(msg, "The request body has data after the JSON value (at byte %zu).", end);
		rc = ERR_INVALID_JSON;
		goto out;
	}
	if (tree_values(obj) < nvalues) {
		setmsg(msg, "The request body is not valid JSON (an object repeats a member name).");
		rc = ERR_INVALID_JSON;
		goto out;
	}
	*out = obj;
	obj = NULL;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

static const char *safe_name(const char *k);

/* A jstream sink that keeps nothing: skipping a member's string value. */
static int discard(void *ctx, const void *data, size_t n)
{
	(void)ctx;
	(void)data;
	(void)n;
	return 0;
}

/* Check that text[0..len) is one object the strict parser takes with the bounds o. */
static enum err carried(const char *text, size_t len, const char *name, const struct jstream_opts *o, char *msg)
{
	struct jstream *js = jstream_new_mem(text, len, o);
	enum jstream_tok t;
	enum err e = ERR_INVALID_REQUEST;

	if (!js)
		return ERR_INTERNAL;
	t = jstream_next(js);
	if (t == JSTREAM_OBJ_BEGIN && jstream_skip(js, t) == 0 && jstream_next(js) == JSTREAM_END)
		e = ERR_OK;
	else if (jstream_errcode(js) == JSTREAM_E_NOMEM)
		e = ERR_INTERNAL;
	else
		setmsg(msg, "%s: an export could not carry this object (%s at byte %llu).", safe_name(name),
		    jstream_errcode(js) == JSTREAM_OK ? "not one object" : jstream_message(js),
		    (unsigned long long)jstream_offset(js));
	jstream_free(js);
	return e;
}

enum err json_member_text(const char *data, size_t len, const char *name, const struct jstream_opts *check,
    size_t *off, size_t *n, char *msg)
{
	struct jstream *js = jstream_new_mem(data, len, NULL);
	enum jstream_tok t;
	enum err e = ERR_INVALID_REQUEST;
	uint64_t start;

	*off = *n = 0;
	if (!js)
		return ERR_INTERNAL;
	if (jstream_next(js) != JSTREAM_OBJ_BEGIN)
		goto refused;
	for (;;) {
		t = jstream_next(js);
		if (t != JSTREAM_KEY)
			goto refused; /* the end of the object (absent), or an error */
		if (strcmp(jstream_str(js, NULL), name) != 0) {
			/* another member: skipped, its strings streamed to nowhere */
			t = jstream_next_stream(js, discard, NULL);
			if (t == JSTREAM_ERROR || jstream_skip(js, t) != 0)
				goto refused;
			continue;
		}
		t = jstream_next(js);
		if (t != JSTREAM_OBJ_BEGIN) {
			setmsg(msg, "%s: expected a JSON object.", safe_name(name));
			goto out;
		}
		start = jstream_offset(js);
		if (jstream_skip(js, t) != 0)
			goto refused;
		*off = (size_t)start;
		*n = (size_t)(jstream_offset(js) + 1 - start);
		e = carried(data + *off, *n, name, check, msg);
		goto out;
	}
refused:
	if (jstream_errcode(js) == JSTREAM_E_NOMEM)
		e = ERR_INTERNAL;
	else if (jstream_errcode(js) != JSTREAM_OK)
		setmsg(msg, "%s: the body holds what an export could not carry (%s at byte %llu).",
		    safe_name(name), jstream_message(js), (unsigned long long)jstream_offset(js));
	else
		setmsg(msg, "%s: required field missing.", safe_name(name));
out:
	if (e != ERR_OK)
		*off = *n = 0;
	jstream_free(js);
	return e;
}

static const char *jtype_name(enum jtype t)
{
	switch (t) {
	case JT_STRING: return "a string";
	case JT_NULLABLE_STRING: return "a string or null";
	case JT_INT: return "an integer";
	case JT_BOOL: return "a boolean";
	case JT_OBJECT: return "an object";
	case JT_ARRAY: return "an array";
	}
	return "a value";
}

static int jtype_ok(const struct json_object *v, enum jtype t)
{
	switch (t) {
	case JT_STRING: return json_object_is_type(v, json_type_string);
	case JT_NULLABLE_STRING: return v == NULL || json_object_is_type(v, json_type_string);
	case JT_INT: return json_object_is_type(v, json_type_int);
	case JT_BOOL: return json_object_is_type(v, json_type_boolean);
	case JT_OBJECT: return json_object_is_type(v, json_type_object);
	case JT_ARRAY: return json_object_is_type(v, json_type_array);
	}
	return 0;
}

/* Field names in messages are printed only if they are short and plain. */
static const char *safe_name(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 64)
		return "(unprintable)";
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-' || k[i] == '.'))
			return "(unprintable)";
	return k;
}

enum err json_check_fields(const struct json_object *obj, const struct jfield *fields, size_t n,
    const char *what, char *msg)
{
	if (!json_object_is_type(obj, json_type_object)) {
		setmsg(msg, "%s: expected a JSON object.", what);
		return ERR_INVALID_REQUEST;
	}
	json_object_object_foreach((struct json_object *)obj, key, val) {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == n) {
			setmsg(msg, "%s: unknown field '%s'.", what, safe_name(key));
			return ERR_INVALID_REQUEST;
		}
		if (!jtype_ok(val, fields[i].type)) {
			setmsg(msg, "%s.%s: expected %s.", what, fields[i].name, jtype_name(fields[i].type));
			return ERR_INVALID_REQUEST;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (fields[i].required && !json_object_object_get_ex(obj, fields[i].name, NULL)) {
			setmsg(msg, "%s.%s: required field missing.", what, fields[i].name);
			return ERR_INVALID_REQUEST;
		}
	}
	return ERR_OK;
}

/*
 * The member `name` of obj, which must be of json-c type `type`, into *v:
 * the lookup every typed getter starts with. ERR_OK with *v set; ERR_OK
 * with *v NULL if it is absent (or JSON null) and not required; else
 * ERR_INVALID_REQUEST with msg "NAME: required field missing." or "NAME:
 * expected EXPECTED.". *v is borrowed from obj.
 */
static enum err typed_member(const struct json_object *obj, const char *name, int required,
    enum json_type type, const char *expected, struct json_object **v, char *msg)
{
	*v = NULL;
	if (!json_object_object_get_ex(obj, name, v) || !*v) {
		if (!required)
			return ERR_OK;
		setmsg(msg, "%s: required field missing.", name);
		return ERR_INVALID_REQUEST;
	}
	if (!json_object_is_type(*v, type)) {
		setmsg(msg, "%s: expected %s.", name, expected);
		return ERR_INVALID_REQUEST;
	}
	return ERR_OK;
}

enum err json_get_str(const struct json_object *obj, const char *name, int required,
    size_t min, size_t max, const char **out, size_t *len, char *msg)
{
	struct json_object *v;
	enum err e = typed_member(obj, name, required, json_type_string, "a string", &v, msg);
	if (e != ERR_OK || !v)
		return e;
	size_t n = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	if (n < min || n > max) {
		setmsg(msg, "%s: expected %zu to %zu characters.", name, min, max);
		return ERR_INVALID_REQUEST;
	}
	if (memchr(s, '\0', n)) {
		setmsg(msg, "%s: must not contain NUL.", name);
		return ERR_INVALID_REQUEST;
	}
	*out = s;
	if (len)
		*len = n;
	return ERR_OK;
}

enum err json_get_int(const struct json_object *obj, const char *name, int required,
    int64_t min, int64_t max, int64_t *out, char *msg)
{
	struct json_object *v;
	enum err e = typed_member(obj, name, required, json_type_int, "an integer", &v, msg);
	if (e != ERR_OK || !v)
		return e;
	errno = 0;
	int64_t x = json_object_get_int64(v);
	/* json-c clamps out-of-range numbers to INT64_MIN/MAX: treat both as out of range */
	if (errno != 0 || x == INT64_MAX || x == INT64_MIN || x < min || x > max) {
		setmsg(msg, "%s: expected an integer from %" PRId64 " to %" PRId64 ".", name, min, max);
		return ERR_INVALID_REQUEST;
	}
	*out = x;
	return ERR_OK;
}

enum err json_get_bool(const struct json_object *obj, const char *name, int required,
    int *out, char *msg)
{
	struct json_object *v;
	enum err e = typed_member(obj, name, required, json_type_boolean, "true or false", &v, msg);
	if (e != ERR_OK || !v)
		return e;
	*out = json_object_get_boolean(v) ? 1 : 0;
	return ERR_OK;
}

enum err json_get_b64(const struct json_object *obj, const char *name, int required,
    size_t min, size_t max, uint8_t **out, size_t *len, char *msg)
{
	struct json_object *v;
	*out = NULL;
	*len = 0;
	enum err e = typed_member(obj, name, required, json_type_string, "a base64 string", &v, msg);
	if (e != ERR_OK || !v)
		return e;
	size_t n = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	size_t cap = bsc_b64_declen_max(n);
	/* bound before allocating: the encoding of max bytes is at most this long */
	if (n > bsc_b64_enclen(max, BSC_B64_STD)) {
		setmsg(msg, "%s: expected %zu to %zu bytes.", name, min, max);
		return ERR_INVALID_REQUEST;
	}
	uint8_t *dst = malloc(cap ? cap : 1);
	if (!dst)
		return ERR_INTERNAL;
	long got = bsc_b64_decode(s, n, dst, cap, BSC_B64_STD);
	if (got < 0) {
		free(dst);
		setmsg(msg, "%s: not valid padded base64.", name);
		return ERR_INVALID_REQUEST;
	}
	if ((size_t)got < min || (size_t)got > max) {
		free(dst);
		setmsg(msg, "%s: expected %zu to %zu bytes.", name, min, max);
		return ERR_INVALID_REQUEST;
	}
	*out = dst;
	*len = (size_t)got;
	return ERR_OK;
}

/* ---- writer ---- */

void jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof *w);
	w->b = b;
	w->first[0] = 1;
}

/* Separator before a value or key at the current depth. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		buf_addc(w->b, ',');
	w->first[w->depth] = 0;
}

static void open_(struct jw *w, char c)
{
	sep(w);
	buf_addc(w->b, c);
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->b->err = 1;
		return;
	}
	w->depth++;
	w->first[w->depth] = 1;
}

static void close_(struct jw *w, char c)
{
	buf_addc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_begin(struct jw *w) { open_(w, '{'); }
void jw_obj_end(struct jw *w) { close_(w, '}'); }
void jw_arr_begin(struct jw *w) { open_(w, '['); }
void jw_arr_end(struct jw *w) { close_(w, ']'); }

static void put_escaped(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	buf_addc(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default: {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_add(b, e, 6);
		}
		}
	}
	buf_add(b, s + run, n - run);
	buf_addc(b, '"');
}

void jw_key(struct jw *w, const char *key) { jw_keyn(w, key, strlen(key)); }

void jw_keyn(struct jw *w, const char *key, size_t n)
{
	sep(w);
	put_escaped(w->b, key, n);
	buf_addc(w->b, ':');
	w->after_key = 1;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	put_escaped(w->b, s, n);
}

void jw_str(struct jw *w, const char *s) { jw_strn(w, s, strlen(s)); }

void jw_int(struct jw *w, int64_t v)
{
	sep(w);
	buf_printf(w->b, "%" PRId64, v);
}

void jw_bool(struct jw *w, int v)
{
	sep(w);
	buf_adds(w->b, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	sep(w);
	buf_adds(w->b, "null");
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
	sep(w);
	buf_add(w->b, json, n);
}

void jw_b64(struct jw *w, const void *data, size_t n)
{
	struct jw_b64s s;
	jw_b64_begin(w, &s);
	jw_b64_part(&s, data, n);
	jw_b64_end(&s);
}

void json_time(int64_t t, char out[21])
{
	/* RFC 3339 has four-digit years: clamp anything outside 0000..9999
	 * (only a corrupted store or a wild clock gets there) */
	const int64_t lo = -62167219200LL, hi = 253402300799LL;
	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	struct tm tm;
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm)) {
		memcpy(out, "1970-01-01T00:00:00Z", 21);
		return;
	}
	/* digits by hand: every field is in range by now */
	unsigned v[6] = {(unsigned)(tm.tm_year + 1900) % 10000, (unsigned)(tm.tm_mon + 1) % 100,
	    (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100,
	    (unsigned)tm.tm_sec % 100};
	memcpy(out, "0000-00-00T00:00:00Z", 21);
	for (int i = 3; i >= 0; i--, v[0] /= 10)
		out[i] = (char)('0' + v[0] % 10);
	static const int pos[5] = {5, 8, 11, 14, 17};
	for (int k = 0; k < 5; k++) {
		out[pos[k]] = (char)('0' + v[k + 1] / 10);
		out[pos[k] + 1] = (char)('0' + v[k + 1] % 10);
	}
}

void jw_time(struct jw *w, int64_t t)
{
	char s[21];
	json_time(t, s);
	jw_str(w, s);
}

/* ---- streaming base64: bsc_b64_enc_* into the buffer ---- */

void jw_b64_begin(struct jw *w, struct jw_b64s *s)
{
	s->w = w;
	bsc_b64_enc_init(&s->enc, BSC_B64_STD);
	sep(w);
	buf_addc(w->b, '"');
}

void jw_b64_part(struct jw_b64s *s, const void *data, size_t n)
{
	const size_t slice = 48 * 1024; /* bytes encoded per reservation */
	const uint8_t *p = data;
	struct buf *b = s->w->b;
	while (n > 0) {
		size_t take = n < slice ? n : slice;
		size_t enc = bsc_b64_enc_update_len(&s->enc, take);
		char *dst = buf_reserve(b, enc);
		if (!dst)
			return;
		long got = bsc_b64_enc_update(&s->enc, p, take, dst, enc);
		if (got < 0) {
			b->err = 1;
			return;
		}
		buf_commit(b, (size_t)got);
		p += take;
		n -= take;
	}
}

void jw_b64_end(struct jw_b64s *s)
{
	char tail[4];
	long got = bsc_b64_enc_final(&s->enc, tail, sizeof tail);
	if (got < 0)
		s->w->b->err = 1;
	else
		buf_add(s->w->b, tail, (size_t)got);
	buf_addc(s->w->b, '"');
}
