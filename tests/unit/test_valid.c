/*
 * test_valid.c: unit tests of fcgi/lib/valid.c, the name rules of api.md §1:
 * collection/backup names (1-64), record ids (1-128), both of
 * A-Z a-z 0-9 _ - . ~ and not starting with . or ~; slot ids (64 lowercase
 * hex). Lengths at and around every bound, every allowed special character
 * in every position, and characters that must never pass (/ % space, NUL
 * cut, control, non-ASCII).
 *
 * Needs only valid.h and t.h.
 */
#include <stdio.h>
#include <string.h>

#include "t.h"
#include "valid.h"

/* A string of n copies of c (n < sizeof buf). */
static const char *
rep(char *buf, size_t buflen, char c, size_t n)
{
	if (n >= buflen)
		n = buflen - 1;
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void
test_name_lengths(void)
{
	char b[300];

	T_EQ_INT(valid_name(NULL), 0);
	T_EQ_INT(valid_name(""), 0);
	T_EQ_INT(valid_name(rep(b, sizeof b, 'a', 1)), 1);
	T_EQ_INT(valid_name(rep(b, sizeof b, 'a', 63)), 1);
	T_EQ_INT(valid_name(rep(b, sizeof b, 'a', 64)), 1);
	T_EQ_INT(valid_name(rep(b, sizeof b, 'a', 65)), 0);
	T_EQ_INT(valid_name(rep(b, sizeof b, 'a', 128)), 0);
	T_EQ_INT(valid_name(rep(b, sizeof b, 'a', 129)), 0);
	T_EQ_INT(valid_name(rep(b, sizeof b, 'a', 299)), 0);
}

static void
test_rid_lengths(void)
{
	char b[300];

	T_EQ_INT(valid_rid(NULL), 0);
	T_EQ_INT(valid_rid(""), 0);
	T_EQ_INT(valid_rid(rep(b, sizeof b, 'Z', 1)), 1);
	T_EQ_INT(valid_rid(rep(b, sizeof b, 'Z', 64)), 1);
	T_EQ_INT(valid_rid(rep(b, sizeof b, 'Z', 65)), 1);
	T_EQ_INT(valid_rid(rep(b, sizeof b, 'Z', 127)), 1);
	T_EQ_INT(valid_rid(rep(b, sizeof b, 'Z', 128)), 1);
	T_EQ_INT(valid_rid(rep(b, sizeof b, 'Z', 129)), 0);
	T_EQ_INT(valid_rid(rep(b, sizeof b, 'Z', 299)), 0);
}

/* Every byte 1..255: exactly the 66 of the set pass, in the middle and at the end. */
static void
test_charset(void)
{
	const char *allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~";
	int name_ok = 1, rid_ok = 1, npass = 0;

	for (int c = 1; c < 256; c++) {
		char mid[4] = { 'a', (char)c, 'b', '\0' };
		char end[3] = { 'a', (char)c, '\0' };
		int want = strchr(allowed, c) != NULL;

		if (valid_name(mid) != want || valid_name(end) != want) {
			name_ok = 0;
			fprintf(stderr, "valid_name wrong for byte 0x%02x\n", c);
		}
		if (valid_rid(mid) != want || valid_rid(end) != want) {
			rid_ok = 0;
			fprintf(stderr, "valid_rid wrong for byte 0x%02x\n", c);
		}
		npass += valid_name(mid);
	}
	T_OK(name_ok);
	T_OK(rid_ok);
	T_EQ_INT(npass, 66);
}

static void
test_first_char(void)
{
	/* every special char is allowed inside; only . and ~ are barred first */
	T_EQ_INT(valid_name("a_-.~"), 1);
	T_EQ_INT(valid_name("_x"), 1);
	T_EQ_INT(valid_name("-x"), 1);
	T_EQ_INT(valid_name("_"), 1);
	T_EQ_INT(valid_name("-"), 1);
	T_EQ_INT(valid_name("0"), 1);
	T_EQ_INT(valid_name(".x"), 0);
	T_EQ_INT(valid_name("~x"), 0);
	T_EQ_INT(valid_name("."), 0);
	T_EQ_INT(valid_name(".."), 0);
	T_EQ_INT(valid_name("~"), 0);
	T_EQ_INT(valid_name("x."), 1);
	T_EQ_INT(valid_name("x~"), 1);
	T_EQ_INT(valid_name("x.."), 1);

	T_EQ_INT(valid_rid("a_-.~"), 1);
	T_EQ_INT(valid_rid("_"), 1);
	T_EQ_INT(valid_rid("-"), 1);
	T_EQ_INT(valid_rid(".x"), 0);
	T_EQ_INT(valid_rid("~x"), 0);
	T_EQ_INT(valid_rid("."), 0);
	T_EQ_INT(valid_rid(".."), 0);
	T_EQ_INT(valid_rid("x.."), 1);
}

static void
test_disallowed(void)
{
	static const char *bad[] = {
		"a/b", "/", "../x", "a%2fb", "%", "a b", " a", "a ", "a\tb", "a\nb",
		"a+b", "a@b", "a:b", "a?b", "a#b", "a\\b", "a\"b", "a'b", "a*b",
		"caf\xc3\xa9", "\xe2\x80\x8b", "a\x7f", "\x01",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_OK(!valid_name(bad[i]));
		T_OK(!valid_rid(bad[i]));
	}
	/* a NUL cuts the string: what follows it is not seen */
	T_EQ_INT(valid_name("ab\0/"), 1);
}

static void
test_slot_id(void)
{
	char b[200];
	char s[65];

	T_EQ_INT(valid_slot_id(NULL), 0);
	T_EQ_INT(valid_slot_id(""), 0);
	T_EQ_INT(valid_slot_id(rep(b, sizeof b, 'a', 64)), 1);
	T_EQ_INT(valid_slot_id(rep(b, sizeof b, '0', 64)), 1);
	T_EQ_INT(valid_slot_id(rep(b, sizeof b, 'f', 63)), 0);
	T_EQ_INT(valid_slot_id(rep(b, sizeof b, 'f', 65)), 0);
	T_EQ_INT(valid_slot_id(rep(b, sizeof b, 'f', 128)), 0);
	T_EQ_INT(valid_slot_id(rep(b, sizeof b, 'f', 129)), 0);
	T_EQ_INT(valid_slot_id("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 1);
	/* uppercase hex, g, and other bytes at the first and last positions */
	const char *badc = "ABCDEFgz-_. /%\x80";
	for (const char *p = badc; *p; p++) {
		memset(s, 'a', 64);
		s[64] = '\0';
		s[0] = *p;
		T_EQ_INT(valid_slot_id(s), 0);
		s[0] = 'a';
		s[63] = *p;
		T_EQ_INT(valid_slot_id(s), 0);
	}
}

int
main(void)
{
	T_RUN(test_name_lengths);
	T_RUN(test_rid_lengths);
	T_RUN(test_charset);
	T_RUN(test_first_char);
	T_RUN(test_disallowed);
	T_RUN(test_slot_id);
	return t_done();
}
