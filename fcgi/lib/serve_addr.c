/*
 * serve_addr.c: client addresses: "addr" and "addr/prefix" (CIDR) parsing,
 * membership of an address list (trusted proxies, metrics allow), and the
 * client of a request behind trusted proxies (X-Forwarded-For).
 *
 * This file must never: take an address from X-Forwarded-For unless the
 * peer is a trusted proxy, or keep a garbled one (the proxy's stays).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "serve.h"
#include "serve_impl.h"

/* Parse "addr" or "addr/prefix" into 16 bytes (v4 mapped) and a prefix length. */
static int parse_cidr(const char *s, uint8_t out[16], int *prefix)
{
	char buf[CONFIG_ADDR_MAX];
	snprintf(buf, sizeof buf, "%s", s);
	char *slash = strchr(buf, '/');
	int p = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || v < 0 || v > 128)
			return -1;
		p = (int)v;
	}
	struct in_addr a4;
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		if (p > 32)
			return -1;
		*prefix = p < 0 ? 128 : 96 + p;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out) == 1) {
		*prefix = p < 0 ? 128 : p;
		return 0;
	}
	return -1;
}

/* 1 if addr equals one of list[0..n) or falls in one of its CIDR ranges (serve.h). */
int serve_addr_in(const char *addr, const char list[][CONFIG_ADDR_MAX], int n)
{
	uint8_t a[16], net[16];
	int ap, np;
	if (!addr || parse_cidr(addr, a, &ap) != 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (parse_cidr(list[i], net, &np) != 0)
			continue;
		int full = np / 8, rem = np % 8;
		if (memcmp(a, net, (size_t)full) != 0)
			continue;
		if (rem && ((a[full] ^ net[full]) & (0xff << (8 - rem)) & 0xff))
			continue;
		return 1;
	}
	return 0;
}

/*
 * The client address: REMOTE_ADDR, unless that is a trusted proxy; then the
 * right-most address of X-Forwarded-For that is not itself a trusted proxy.
 * (serve_impl.h)
 */
void serve_resolve_client(struct req *r)
{
	const struct config *c = r->cfg;
	if (c->n_trusted_proxies == 0 || !serve_addr_in(r->remote_addr, c->trusted_proxies, c->n_trusted_proxies))
		return;
	const char *xff = http_header(r, "X-Forwarded-For");
	if (!xff || strlen(xff) > 1024)
		return;
	char buf[1025];
	snprintf(buf, sizeof buf, "%s", xff);
	for (;;) {
		char *comma = strrchr(buf, ',');
		char *item = comma ? comma + 1 : buf;
		while (*item == ' ' || *item == '\t')
			item++;
		size_t n = strlen(item);
		while (n > 0 && (item[n - 1] == ' ' || item[n - 1] == '\t'))
			item[--n] = '\0';
		uint8_t tmp[16];
		int p;
		if (n == 0 || n >= sizeof r->remote_addr || parse_cidr(item, tmp, &p) != 0 || strchr(item, '/'))
			return; /* garbage: keep the proxy's address */
		memcpy(r->remote_addr, item, n + 1); /* n < sizeof, checked above */
		if (!comma || !serve_addr_in(item, c->trusted_proxies, c->n_trusted_proxies))
			return;
		*comma = '\0';
	}
}
