/*
 * log.c: single-line, single-write logging with escaping. Must never log
 * request bodies, tokens or keys; callers pass only what is safe.
 */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

static char log_prog[32] = "blindsync";
static volatile int log_level_ = LOG_INFO;

void log_setup(const char *prog, enum log_level level)
{
	snprintf(log_prog, sizeof log_prog, "%s", prog);
	log_level_ = level;
}

void log_set_level(enum log_level level) { log_level_ = level; }

void log_escape(const char *src, char *dst, size_t dstlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (dstlen == 0)
		return;
	for (size_t i = 0; src && src[i] && i < 200; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
}

static void emit(enum log_level level, const char *text)
{
	char line[1024];
	char ts[21];
	json_time((int64_t)time(NULL), ts);
	int n = snprintf(line, sizeof line, "%s %s[%d] %s %s\n", ts, log_prog, (int)getpid(),
	    config_log_level_name(level), text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if ((int)level > log_level_)
		return;
	char text[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* the message itself must be one line */
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	emit(level, text);
}

void log_request(const char *request_id, const char *method, const char *route, int status,
    double ms, int64_t account_id, const char *detail)
{
	if (LOG_INFO > log_level_ && status < 500)
		return;
	char rid[80], meth[40], det[300], acct[24];
	log_escape(request_id, rid, sizeof rid);
	log_escape(method, meth, sizeof meth);
	log_escape(detail ? detail : "", det, sizeof det);
	if (account_id > 0)
		snprintf(acct, sizeof acct, "%" PRId64, account_id);
	else
		snprintf(acct, sizeof acct, "-");
	char text[768];
	snprintf(text, sizeof text, "req=%s %s %s %d %.3fms account=%s%s%s", rid, meth, route ? route : "-",
	    status, ms, acct, det[0] ? " " : "", det);
	emit(status >= 500 ? LOG_ERROR : LOG_INFO, text);
}
