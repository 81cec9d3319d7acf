/*
 * test_log.c: unit tests of fcgi/lib/log.c.
 *
 * log_escape() on every byte, quotes, backslashes, non-ASCII, the 200-byte
 * source cut and small destinations; log_request() and log_msg() with
 * stderr redirected (dup2) to a file that is read back: the exact line
 * shape, one line and one newline whatever the input, the level filter.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

static char tmpdir[64], capfile[96];

/* ---- stderr capture ---- */

static int cap_fd = -1, saved_fd = -1;

static void
cap_begin(void)
{
	fflush(stderr);
	cap_fd = open(capfile, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved_fd = dup(STDERR_FILENO);
	if (cap_fd < 0 || saved_fd < 0 || dup2(cap_fd, STDERR_FILENO) < 0) {
		perror("capture");
		exit(1);
	}
}

/* Stop capturing; what was written, NUL-terminated, into out. Its length. */
static size_t
cap_end(char *out, size_t outlen)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	n = pread(cap_fd, out, outlen - 1, 0);
	close(cap_fd);
	if (n < 0)
		n = 0;
	out[n] = '\0';
	return (size_t)n;
}

static int
count_char(const char *s, size_t n, char c)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* The line without its "YYYY-MM-DDTHH:MM:SSZ " prefix; NULL if the prefix is wrong. */
static const char *
after_ts(const char *line)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ ";

	for (size_t i = 0; i < sizeof shape - 1; i++) {
		char c = line[i];
		if (shape[i] == 'd' ? !(c >= '0' && c <= '9') : c != shape[i])
			return NULL;
	}
	return line + sizeof shape - 1;
}

/* ---- log_escape ---- */

static const char *
esc(const char *s, size_t dstlen)
{
	static char buf[2048];

	memset(buf, '#', sizeof buf);
	log_escape(s, buf, dstlen);
	return buf;
}

static void
test_escape_basic(void)
{
	T_EQ_STR(esc("hello world", 100), "hello world");
	T_EQ_STR(esc("", 100), "");
	T_EQ_STR(esc(NULL, 100), "");
	T_EQ_STR(esc("a\nb", 100), "a\\x0ab");
	T_EQ_STR(esc("\r\t\x01\x1f", 100), "\\x0d\\x09\\x01\\x1f");
	T_EQ_STR(esc("say \"hi\"", 100), "say \\x22hi\\x22");
	T_EQ_STR(esc("C:\\dir", 100), "C:\\x5cdir");
	T_EQ_STR(esc("caf\xc3\xa9", 100), "caf\\xc3\\xa9");
	T_EQ_STR(esc("\x7f\x80\xff", 100), "\\x7f\\x80\\xff");
	T_EQ_STR(esc(" ~!#$%&'()*+,-./:;<=>?@[]^_`{|}", 100), " ~!#$%&'()*+,-./:;<=>?@[]^_`{|}");
	/* a fake log line in a value stays in its field */
	T_EQ_STR(esc("x\n2026-01-01T00:00:00Z blindsync[1] error forged", 200),
	    "x\\x0a2026-01-01T00:00:00Z blindsync[1] error forged");
}

static void
test_escape_every_byte(void)
{
	int ok = 1;

	for (int c = 1; c < 256; c++) {
		char src[2] = { (char)c, '\0' }, want[8];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			snprintf(want, sizeof want, "%c", c);
		else
			snprintf(want, sizeof want, "\\x%02x", c);
		if (strcmp(esc(src, 16), want) != 0) {
			ok = 0;
			fprintf(stderr, "byte 0x%02x: got \"%s\" want \"%s\"\n", c, esc(src, 16), want);
		}
	}
	T_OK(ok);
}

static void
test_escape_truncate(void)
{
	char src[1001];

	/* at 200 source bytes */
	memset(src, 'a', 1000);
	src[1000] = '\0';
	T_EQ_INT(strlen(esc(src, 2048)), 200);
	memset(src, '\n', 1000);
	T_EQ_INT(strlen(esc(src, 2048)), 800);
	T_EQ_STR(esc(src, 2048) + 796, "\\x0a");

	/* at the destination: always NUL-terminated, never a cut escape */
	T_EQ_STR(esc("abcdefgh", 5), "abcd");
	T_EQ_STR(esc("abcdefgh", 1), "");
	T_EQ_STR(esc("ab\ncd", 7), "ab\\x0a");
	T_EQ_STR(esc("ab\ncd", 6), "ab");
	T_EQ_STR(esc("ab\ncd", 5), "ab");
	T_EQ_STR(esc("\n", 4), "");
	T_EQ_STR(esc("\n", 5), "\\x0a");
	const char *r = esc("abcdefgh", 5);
	T_EQ_INT(r[5], '#');
	/* dstlen 0: nothing written at all */
	r = esc("abc", 0);
	T_EQ_INT(r[0], '#');
	int ok = 1;
	for (size_t len = 1; len < 40; len++) {
		r = esc("x\"y\\z\x01\xe9 tail tail tail tail", len);
		if (strlen(r) >= len || r[len] != '#')
			ok = 0;
		/* a backslash is only ever the start of a whole \xNN */
		for (const char *p = strchr(r, '\\'); p; p = strchr(p + 1, '\\'))
			if (p[1] != 'x' || !p[2] || !p[3])
				ok = 0;
	}
	T_OK(ok);
}

/* ---- log_request ---- */

static void
test_request_line(void)
{
	char out[4096], want[512];
	size_t n;

	log_setup("test_log", LOG_INFO);
	cap_begin();
	log_request("abc123", "GET", "status.info", 200, 0.4123, 0, NULL);
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 1);
	T_OK(n > 0 && out[n - 1] == '\n');
	const char *rest = after_ts(out);
	T_OK(rest != NULL);
	snprintf(want, sizeof want, "test_log[%d] info req=abc123 GET status.info 200 0.412ms account=-\n",
	    (int)getpid());
	T_EQ_STR(rest, want);

	cap_begin();
	log_request("r2", "POST", "collections.push", 409, 12.5, 42, "2 record(s) conflict");
	n = cap_end(out, sizeof out);
	rest = after_ts(out);
	snprintf(want, sizeof want,
	    "test_log[%d] info req=r2 POST collections.push 409 12.500ms account=42 2 record(s) conflict\n",
	    (int)getpid());
	T_EQ_STR(rest, want);

	/* 5xx is an error line; NULL route prints "-" */
	cap_begin();
	log_request("r3", "GET", NULL, 503, 1, -7, "");
	n = cap_end(out, sizeof out);
	rest = after_ts(out);
	snprintf(want, sizeof want, "test_log[%d] error req=r3 GET - 503 1.000ms account=-\n", (int)getpid());
	T_EQ_STR(rest, want);
}

static void
test_request_one_line(void)
{
	char out[8192], big[3000];
	size_t n;

	log_setup("test_log", LOG_INFO);
	/* newlines and quotes in every untrusted field */
	cap_begin();
	log_request("id\nforged", "GE\r\nT", "account.login", 401, 1, 0, "line1\nline2\r\n\"quoted\"\\");
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 1);
	T_EQ_INT(count_char(out, n, '\r'), 0);
	T_EQ_INT(count_char(out, n, '"'), 0);
	T_OK(out[n - 1] == '\n');
	T_OK(strstr(out, "req=id\\x0aforged ") != NULL);
	T_OK(strstr(out, " GE\\x0d\\x0aT ") != NULL);
	T_OK(strstr(out, " account.login 401 ") != NULL);
	T_OK(strstr(out, "line1\\x0aline2\\x0d\\x0a\\x22quoted\\x22\\x5c\n") != NULL);

	/* huge fields: still one line, bounded */
	memset(big, '\n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cap_begin();
	log_request(big, big, "r", 200, 1e12, INT64_MAX, big);
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 1);
	T_OK(n > 0 && out[n - 1] == '\n');
	T_OK(n <= 1024);
	T_OK(strstr(out, "req=") != NULL);

	memset(big, 'x', sizeof big - 1);
	cap_begin();
	log_request(big, "GET", "r", 200, 1, 1, big);
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 1);
	T_OK(n <= 1024);
}

static void
test_levels(void)
{
	char out[4096];
	size_t n;

	/* at "error" only 5xx access lines and errors pass */
	log_setup("lv", LOG_ERROR);
	cap_begin();
	log_request("a", "GET", "r", 200, 1, 0, NULL);
	log_request("b", "GET", "r", 404, 1, 0, NULL);
	log_msg(LOG_WARN, "warned %d", 1);
	log_msg(LOG_INFO, "info %d", 2);
	n = cap_end(out, sizeof out);
	T_EQ_INT(n, 0);
	cap_begin();
	log_request("c", "GET", "r", 500, 1, 0, NULL);
	log_msg(LOG_ERROR, "bad %s", "thing");
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 2);
	T_OK(strstr(out, "] error req=c GET r 500 ") != NULL);
	T_OK(strstr(out, "] error bad thing\n") != NULL);
	T_OK(strstr(out, " lv[") != NULL);

	log_set_level(LOG_DEBUG);
	cap_begin();
	log_msg(LOG_DEBUG, "dbg");
	log_msg(LOG_WARN, "w");
	log_request("d", "GET", "r", 200, 1, 0, NULL);
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 3);
	T_OK(strstr(out, "] debug dbg\n") != NULL);
	T_OK(strstr(out, "] warn w\n") != NULL);
	T_OK(strstr(out, "] info req=d ") != NULL);

	log_set_level(LOG_WARN);
	cap_begin();
	log_msg(LOG_DEBUG, "no");
	log_msg(LOG_INFO, "no");
	n = cap_end(out, sizeof out);
	T_EQ_INT(n, 0);
}

static void
test_msg_one_line(void)
{
	char out[4096], big[2000];
	size_t n;

	log_setup("test_log", LOG_INFO);
	cap_begin();
	log_msg(LOG_INFO, "two\nlines\rand %s", "more\nhere");
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 1);
	T_EQ_INT(count_char(out, n, '\r'), 0);
	T_OK(strstr(out, "] info two lines and more here\n") != NULL);

	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cap_begin();
	log_msg(LOG_WARN, "%s", big);
	n = cap_end(out, sizeof out);
	T_EQ_INT(count_char(out, n, '\n'), 1);
	T_OK(n <= 1024 && out[n - 1] == '\n');

	/* the process name is bounded */
	log_setup("a-very-long-process-name-that-goes-on-and-on-and-on", LOG_INFO);
	cap_begin();
	log_msg(LOG_INFO, "x");
	n = cap_end(out, sizeof out);
	T_OK(strstr(out, " a-very-long-process-name-that-g[") != NULL);
	log_setup("test_log", LOG_INFO);
}

int
main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "log") != 0)
		return 1;
	snprintf(capfile, sizeof capfile, "%s/stderr", tmpdir);
	T_RUN(test_escape_basic);
	T_RUN(test_escape_every_byte);
	T_RUN(test_escape_truncate);
	T_RUN(test_request_line);
	T_RUN(test_request_one_line);
	T_RUN(test_levels);
	T_RUN(test_msg_one_line);
	t_tmpdir_remove(tmpdir);
	return t_done();
}
