/*
 * config_print.c: a struct config printed back as a Lua config file
 * (config_print(), behind `blindsync-admin config check`).
 *
 * Every key with its effective value, in the order of cfg_top_fields[]
 * (config.md), byte sizes as N * KiB/MiB/GiB; the output loads back with
 * config_load() to an equal config.
 *
 * This file must never: print a string unescaped, or print a value that
 * would load back as another one.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"

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
	if (cfg_is_lua_name(name))
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
		put_lua_string(fp, cfg_name_of(f->names, f->nnames, get_int(base, f->off)),
		    strlen(cfg_name_of(f->names, f->nnames, get_int(base, f->off))));
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

/* Prints plans = { ... }, one plan a line. Returns 0. */
int
cfg_print_plans(const struct config *c, FILE *fp)
{
	static const struct field plan_rec = { .name = "plan", RECORD(cfg_plan_fields) };
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

/* Prints rate_limits = { ... }, one rule a line. Returns 0. */
int
cfg_print_rate_limits(const struct config *c, FILE *fp)
{
	static const struct field rule_rec = { .name = "rule", RECORD(cfg_rule_fields) };
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

/*
 * Prints prelogin_fake_kdf back as a Lua table, read from its stored JSON.
 * Returns 0, or -1 (with a comment line printed) if that JSON is malformed.
 */
int
cfg_print_kdf(const struct config *c, FILE *fp)
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
		if (cfg_is_lua_name(key)) {
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
	for (i = 0; i < CFG_NTOP; i++) {
		const struct field *f = &cfg_top_fields[i];

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

