/*
 * test_config.c: unit tests of config.c, the Lua config loader.
 *
 * Each case writes a config into a fresh mkdtemp() directory, loads it and
 * checks the values or the exact one-line error ("FILE:LINE: KEY: ...").
 * Runs from the repository root (it loads lua/blindsync.lua). Must stay
 * clean under ASan+UBSan and valgrind: every snapshot is released.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "t.h"

static char dir[64];
static char path[256];    /* dir/t.lua, the file most cases use */

static void
write_raw(const char *file, const char *text, size_t len)
{
	FILE *fp = fopen(file, "wb");

	if (!fp) {
		perror(file);
		exit(2);
	}
	if (fwrite(text, 1, len, fp) != len || fclose(fp) != 0) {
		perror(file);
		exit(2);
	}
}

static void
write_text(const char *file, const char *text)
{
	write_raw(file, text, strlen(text));
}

/* Writes `text` to dir/t.lua and loads it. */
static int
load(const char *text, struct config *c, char *err, size_t errlen)
{
	write_text(path, text);
	return config_load(path, c, err, errlen);
}

/* Expects `text` to fail with exactly "<path>:<expect>". */
static void
expect_error(const char *text, const char *expect, int line)
{
	static struct config c;
	char err[1024], want[1024];

	snprintf(want, sizeof want, "%s:%s", path, expect);
	T_EQ_INT(load(text, &c, err, sizeof err), -1);
	if (strcmp(err, want) != 0)
		fprintf(stderr, "  (case at test line %d)\n", line);
	T_EQ_STR(err, want);
}
#define EXPECT_ERROR(text, expect) expect_error(text, expect, __LINE__)

/* Expects `text` to fail with a message that contains `part`. */
static void
expect_error_has(const char *text, const char *part, int line)
{
	static struct config c;
	char err[1024];
	int ok;

	T_EQ_INT(load(text, &c, err, sizeof err), -1);
	ok = strstr(err, part) != NULL && strncmp(err, path, strlen(path)) == 0 &&
	    strchr(err, '\n') == NULL;
	if (!ok)
		fprintf(stderr, "  (case at test line %d: \"%s\" lacks \"%s\")\n",
		    line, err, part);
	T_OK(ok);
}
#define EXPECT_ERROR_HAS(text, part) expect_error_has(text, part, __LINE__)

/* Field-by-field equality of two configs, path and mtime excepted. */
static int
cfg_equal(const struct config *a, const struct config *b)
{
	int i;

#define SAME(f) do { if (a->f != b->f) { fprintf(stderr, "  differs: %s\n", #f); return 0; } } while (0)
#define SAMES(f) do { if (strcmp(a->f, b->f) != 0) { fprintf(stderr, "  differs: %s\n", #f); return 0; } } while (0)
	SAMES(database);
	SAMES(secret_file);
	SAME(registration);
	SAME(n_trusted_proxies);
	for (i = 0; i < a->n_trusted_proxies; i++)
		SAMES(trusted_proxies[i]);
	SAME(require_https);
	SAME(tokens.access_ttl);
	SAME(tokens.refresh_ttl);
	SAME(password_hash.iterations);
	SAMES(prelogin_fake_kdf_json);
	SAME(limits.max_body_bytes);
	SAME(limits.max_record_bytes);
	SAME(limits.max_push_records);
	SAME(limits.max_pull_records);
	SAME(limits.max_wait_seconds);
	SAME(limits.max_import_bytes);
	SAME(n_plans);
	for (i = 0; i < a->n_plans; i++) {
		SAMES(plans[i].name);
		SAME(plans[i].bytes);
		SAME(plans[i].collections);
		SAME(plans[i].backups);
		SAME(plans[i].backup_bytes);
		SAME(plans[i].min_backup_bytes);
		SAME(plans[i].history_depth);
	}
	SAME(n_rate_limits);
	for (i = 0; i < a->n_rate_limits; i++) {
		SAMES(rate_limits[i].route);
		SAME(rate_limits[i].per);
		SAME(rate_limits[i].limit);
		SAME(rate_limits[i].window);
	}
	SAME(tombstones.keep_days);
	SAME(slots.enabled);
	SAME(slots.max_bytes);
	SAME(slots.expire_days);
	SAME(cors.n_origins);
	for (i = 0; i < a->cors.n_origins; i++)
		SAMES(cors.origins[i]);
	SAME(log.level);
	SAME(metrics.n_allow);
	for (i = 0; i < a->metrics.n_allow; i++)
		SAMES(metrics.allow[i]);
#undef SAME
#undef SAMES
	return 1;
}

static void
test_defaults(void)
{
	static struct config c;

	memset(&c, 0x5a, sizeof c);
	config_defaults(&c);
	T_EQ_STR(c.path, "");
	T_EQ_STR(c.database, "var/blindsync.db");
	T_EQ_STR(c.secret_file, "var/secret");
	T_EQ_INT(c.registration, REG_OPEN);
	T_EQ_INT(c.n_trusted_proxies, 0);
	T_EQ_INT(c.require_https, 1);
	T_EQ_INT(c.tokens.access_ttl, 900);
	T_EQ_INT(c.tokens.refresh_ttl, 30 * 86400);
	T_EQ_INT(c.password_hash.iterations, 100000);
	T_EQ_STR(c.prelogin_fake_kdf_json, "{\"alg\":\"argon2id\",\"m\":65536,\"p\":1,\"suite\":\"bs1\",\"t\":3}");
	T_EQ_INT(c.limits.max_body_bytes, 8 * 1024 * 1024);
	T_EQ_INT(c.limits.max_record_bytes, 256 * 1024);
	T_EQ_INT(c.limits.max_push_records, 1000);
	T_EQ_INT(c.limits.max_pull_records, 1000);
	T_EQ_INT(c.limits.max_wait_seconds, 60);
	T_EQ_INT(c.limits.max_import_bytes, 1024LL * 1024 * 1024);
	T_EQ_INT(c.n_plans, 1);
	T_EQ_STR(c.plans[0].name, "default");
	T_EQ_INT(c.plans[0].bytes, 10 * 1024 * 1024);
	T_EQ_INT(c.plans[0].collections, 100);
	T_EQ_INT(c.plans[0].backups, 1);
	T_EQ_INT(c.plans[0].backup_bytes, 2 * 1024 * 1024);
	T_EQ_INT(c.plans[0].min_backup_bytes, 32);
	T_EQ_INT(c.plans[0].history_depth, 10);
	T_EQ_INT(c.n_rate_limits, 9);
	T_EQ_STR(c.rate_limits[0].route, "account.register");
	T_EQ_INT(c.rate_limits[0].per, PER_IP);
	T_EQ_INT(c.rate_limits[0].limit, 5);
	T_EQ_INT(c.rate_limits[0].window, 3600);
	T_EQ_STR(c.rate_limits[2].route, "account.login");
	T_EQ_INT(c.rate_limits[2].per, PER_USERNAME);
	T_EQ_INT(c.rate_limits[2].window, 600);
	T_EQ_STR(c.rate_limits[3].route, "account.recover");
	T_EQ_INT(c.rate_limits[3].per, PER_IP);
	T_EQ_STR(c.rate_limits[4].route, "account.recover");
	T_EQ_INT(c.rate_limits[4].per, PER_USERNAME);
	T_EQ_STR(c.rate_limits[5].route, "slots.create");
	T_EQ_INT(c.rate_limits[5].limit, 3);
	T_EQ_STR(c.rate_limits[6].route, "live.connect");
	T_EQ_INT(c.rate_limits[6].per, PER_IP);
	T_EQ_STR(c.rate_limits[7].route, "users.keys");
	T_EQ_INT(c.rate_limits[7].per, PER_ACCOUNT);
	T_EQ_INT(c.rate_limits[7].limit, 60);
	T_EQ_STR(c.rate_limits[8].route, "*");
	T_EQ_INT(c.rate_limits[8].per, PER_ACCOUNT);
	T_EQ_INT(c.rate_limits[8].limit, 600);
	T_EQ_INT(c.sharing.max_members, 100);
	T_EQ_INT(c.sharing.max_pending_invitations, 50);
	T_EQ_INT(c.sharing.invitation_days, 7);
	T_EQ_STR(c.mfa.issuer, "blindsync");
	T_EQ_INT(c.mfa.lockout_seconds, 900);
	T_EQ_INT(c.tombstones.keep_days, 90);
	T_EQ_INT(c.slots.enabled, 0);
	T_EQ_INT(c.slots.max_bytes, 1024 * 1024);
	T_EQ_INT(c.slots.expire_days, 365);
	T_EQ_INT(c.cors.n_origins, 0);
	T_EQ_INT(c.log.level, LOG_INFO);
	T_EQ_INT(c.metrics.n_allow, 2);
	T_EQ_STR(c.metrics.allow[0], "127.0.0.1");
	T_EQ_STR(c.metrics.allow[1], "::1");
	T_EQ_INT(c.live.enabled, 1);
	T_EQ_STR(c.live.socket, "/run/blindsync-live/live.sock");
	T_EQ_INT(c.live.port, 0);
	T_EQ_INT(c.live.max_per_account, 20);
	T_EQ_INT(c.live.max_total, 10000);
	T_EQ_INT(c.live.ping_seconds, 25);
	T_OK(config_plan(&c, "default") == &c.plans[0]);
	T_OK(config_plan(&c, "premium") == NULL);
	T_EQ_STR(config_registration_name(REG_INVITE), "invite");
	T_EQ_STR(config_log_level_name(LOG_WARN), "warn");
	T_EQ_STR(config_per_name(PER_USERNAME), "username");
	T_EQ_STR(config_per_name((enum rate_per)42), "?");
}

static void
test_shipped(void)
{
	static struct config c, d;
	char err[1024] = "";
	int rc = config_load("lua/blindsync.lua", &c, err, sizeof err);

	if (rc != 0)
		fprintf(stderr, "  lua/blindsync.lua: %s\n", err);
	T_EQ_INT(rc, 0);
	config_defaults(&d);
	T_OK(cfg_equal(&c, &d));
	T_EQ_STR(c.path, "lua/blindsync.lua");
	T_OK(c.mtime > 0);
}

static void
test_empty_and_locals(void)
{
	static struct config c, d;
	char err[1024];

	config_defaults(&d);
	T_EQ_INT(load("", &c, err, sizeof err), 0);
	T_OK(cfg_equal(&c, &d));
	T_EQ_STR(c.path, path);
	T_EQ_INT(load("-- only a comment\n", &c, err, sizeof err), 0);
	T_OK(cfg_equal(&c, &d));
	/* a #! first line is skipped, as by the lua interpreter */
	T_EQ_INT(load("#!/usr/bin/env lua\nregistration = \"closed\"\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.registration, REG_CLOSED);
	/* locals, functions and the helpers are fine; only globals are keys */
	T_EQ_INT(load("local base = 10 * MiB\n"
	    "local function twice(x) return 2 * x end\n"
	    "plans = { default = { bytes = twice(base) } }\n"
	    "database = string.format(\"%s/%s\", \"/srv\", \"b.db\")\n"
	    "registration = (\"INVITE\"):lower()\n",
	    &c, err, sizeof err), 0);
	T_EQ_INT(c.plans[0].bytes, 20 * 1024 * 1024);
	T_EQ_STR(c.database, "/srv/b.db");
	T_EQ_INT(c.registration, REG_INVITE);
	/* a float with an integer value is an integer; 1.5 * MiB is one */
	T_EQ_INT(load("limits = { max_body_bytes = 1.5 * MiB }\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.limits.max_body_bytes, 1572864);
	/* the last assignment wins */
	T_EQ_INT(load("log = { level = \"debug\" }\nlog = { level = \"warn\" }\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.log.level, LOG_WARN);
	/* assigning nil is leaving the key out */
	T_EQ_INT(load("database = \"x.db\"\ndatabase = nil\n", &c, err, sizeof err), 0);
	T_EQ_STR(c.database, "var/blindsync.db");
}

static void
test_merge(void)
{
	static struct config c, d;
	char err[1024];

	config_defaults(&d);
	T_EQ_INT(load("limits = { max_push_records = 500 }\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.limits.max_push_records, 500);
	d.limits.max_push_records = 500;
	T_OK(cfg_equal(&c, &d));

	config_defaults(&d);
	T_EQ_INT(load("slots = { enabled = true }\ntokens = { refresh_ttl = 7 * 86400 }\n"
	    "cors = { origins = { \"https://app.example.org\", \"http://localhost:8080\" } }\n"
	    "metrics = { allow = { \"10.0.0.0/8\" } }\n"
	    "trusted_proxies = { \"192.168.1.1\", \"fd00::/8\" }\n",
	    &c, err, sizeof err), 0);
	T_EQ_INT(c.slots.enabled, 1);
	T_EQ_INT(c.slots.max_bytes, d.slots.max_bytes);
	T_EQ_INT(c.slots.expire_days, d.slots.expire_days);
	T_EQ_INT(c.tokens.refresh_ttl, 7 * 86400);
	T_EQ_INT(c.tokens.access_ttl, 900);
	T_EQ_INT(c.cors.n_origins, 2);
	T_EQ_STR(c.cors.origins[1], "http://localhost:8080");
	/* a list replaces the default list */
	T_EQ_INT(c.metrics.n_allow, 1);
	T_EQ_STR(c.metrics.allow[0], "10.0.0.0/8");
	T_EQ_INT(c.n_trusted_proxies, 2);
	T_EQ_STR(c.trusted_proxies[1], "fd00::/8");
}

static void
test_plans(void)
{
	static struct config c;
	const struct plan *p;
	char err[1024];

	T_EQ_INT(load("plans = {\n"
	    "  premium = { bytes = 1 * GiB, backups = 5 },\n"
	    "  basic = {},\n"
	    "}\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.n_plans, 3);
	T_EQ_STR(c.plans[0].name, "default");
	T_EQ_INT(c.plans[0].bytes, 10 * 1024 * 1024);
	T_EQ_STR(c.plans[1].name, "basic");   /* sorted by name after default */
	T_EQ_STR(c.plans[2].name, "premium");
	p = config_plan(&c, "premium");
	T_OK(p != NULL);
	if (p) {
		T_EQ_INT(p->bytes, 1024LL * 1024 * 1024);
		T_EQ_INT(p->backups, 5);
		T_EQ_INT(p->collections, 100);
		T_EQ_INT(p->backup_bytes, 2 * 1024 * 1024);
		T_EQ_INT(p->min_backup_bytes, 32);
		T_EQ_INT(p->history_depth, 10);
	}
	p = config_plan(&c, "basic");
	T_OK(p && p->bytes == c.plans[0].bytes && p->backups == 1);

	/* other plans take their fields from the overridden default */
	T_EQ_INT(load("plans = { default = { collections = 7, history_depth = 0 },\n"
	    "  premium = { backups = 5 } }\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.n_plans, 2);
	T_EQ_INT(c.plans[0].collections, 7);
	T_EQ_INT(c.plans[0].history_depth, 0);
	T_EQ_INT(c.plans[0].bytes, 10 * 1024 * 1024);
	p = config_plan(&c, "premium");
	T_OK(p && p->collections == 7 && p->history_depth == 0 && p->backups == 5);

	EXPECT_ERROR("plans = {\n  premium = {\n    bytes = -1,\n  },\n}\n",
	    "3: plans.premium.bytes: expected an integer from 0 to 1125899906842624, got -1");
	EXPECT_ERROR("plans = { premium = true }\n",
	    "1: plans.premium: expected a table, got true");
	EXPECT_ERROR("plans = { [\"team a\"] = {} }\n",
	    "1: plans: plan names are 1 to 63 letters, digits, '_', '-' or '.', "
	    "starting with a letter or digit, got \"team a\"");
	EXPECT_ERROR("plans = {\n  default = { backup_bytes = 16 },\n}\n",
	    "2: plans.default.backup_bytes: must be at least min_backup_bytes (32), got 16");
	EXPECT_ERROR("plans = {\n  gold = {\n    backup_bytes = 64,\n    min_backup_bytes = 65,\n  }\n}\n",
	    "4: plans.gold.min_backup_bytes: expected an integer from 0 to backup_bytes (64), got 65");
	EXPECT_ERROR("plans = { default = { bytes = 1, colections = 2 } }\n",
	    "1: unknown key 'plans.default.colections'");
	T_EQ_INT(load("plans = { [\"team-a\"] = { bytes = 5 } }\n", &c, err, sizeof err), 0);
	T_OK(config_plan(&c, "team-a") != NULL);
}

static void
test_rate_limits(void)
{
	static struct config c;
	char err[1024];

	T_EQ_INT(load("rate_limits = {\n"
	    "  { route = \"push\", per = \"account\", limit = 100, window = 60 },\n"
	    "}\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.n_rate_limits, 1);
	T_EQ_STR(c.rate_limits[0].route, "push");
	T_EQ_INT(c.rate_limits[0].per, PER_ACCOUNT);
	T_EQ_INT(c.rate_limits[0].limit, 100);
	T_EQ_INT(c.rate_limits[0].window, 60);
	T_EQ_INT(load("rate_limits = {}\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.n_rate_limits, 0);
	T_EQ_INT(load("rate_limits = { { route = \"account.*\", per = \"username\", "
	    "limit = 1, window = 31 * 86400 } }\n", &c, err, sizeof err), 0);
	T_EQ_STR(c.rate_limits[0].route, "account.*");

	EXPECT_ERROR("rate_limits = {\n"
	    "  { route = \"push\", per = \"ip\", limit = 1, window = 1 },\n"
	    "  { route = \"nope\", per = \"ip\", limit = 1, window = 1 },\n"
	    "}\n",
	    "3: rate_limits[2].route: expected one of \"account.register\", "
	    "\"account.prelogin\", \"account.login\", \"account.refresh\", \"account.recover\", \"account.*\", "
	    "\"push\", \"pull\", \"status\", \"collections\", \"records\", \"backups.put\", "
	    "\"backups.get\", \"slots.create\", \"slots.put\", \"slots.get\", \"export\", "
	    "\"import\", \"live.ticket\", \"live.connect\", \"users.keys\", \"*\", got \"nope\"");
	EXPECT_ERROR("rate_limits = {\n  { route = \"push\", per = \"ip\", limit = 1 },\n}\n",
	    "2: rate_limits[1]: missing window (a rule needs route, per, limit and window)");
	EXPECT_ERROR("rate_limits = { { route = \"push\", per = \"host\", limit = 1, window = 1 } }\n",
	    "1: rate_limits[1].per: expected one of \"ip\", \"account\", \"username\", got \"host\"");
	EXPECT_ERROR("rate_limits = { { route = \"push\", per = \"ip\", limit = 0, window = 1 } }\n",
	    "1: rate_limits[1].limit: expected an integer from 1 to 1000000000, got 0");
	EXPECT_ERROR("rate_limits = { route = \"push\" }\n",
	    "1: unknown key 'rate_limits.route'");
	EXPECT_ERROR("rate_limits = \"none\"\n",
	    "1: rate_limits: expected a list of rules, got \"none\"");
}

static void
test_errors(void)
{
	char want[512], err[512], none[300];
	static struct config c;

	/* unknown keys, with the line */
	EXPECT_ERROR("registration = \"open\"\n\ndatabse = \"x.db\"\n",
	    "3: unknown key 'databse'");
	EXPECT_ERROR("limits = {\n  max_push_records = 10,\n  max_pushrecords = 500,\n}\n",
	    "3: unknown key 'limits.max_pushrecords'");
	EXPECT_ERROR("helper = 5\n", "1: unknown key 'helper'");
	EXPECT_ERROR("function f() end\n", "1: unknown key 'f'");
	EXPECT_ERROR("_G[1] = 5\n", "1: unknown key '[1]'");
	/* _ENV could hide assignments from the checks */
	EXPECT_ERROR("-- _ENV in a comment is fine\nlocal s = \"_ENV\"\nlocal _ENV = { string = string }\ndatabase = 5\n",
	    "3: _ENV is reserved: a config sets its keys as plain globals");
	EXPECT_ERROR("local function f(_ENV) database = 5 end\n",
	    "1: _ENV is reserved: a config sets its keys as plain globals");
	/* the earliest error in the file comes first */
	EXPECT_ERROR("log = { level = 1 }\nfoo = 1\n",
	    "1: log.level: expected one of \"error\", \"warn\", \"info\", \"debug\", got 1");
	EXPECT_ERROR("foo = 1\nlog = { level = 1 }\n", "1: unknown key 'foo'");
	/* an assignment made inside a function reports that line */
	EXPECT_ERROR("local function set()\n  database = 5\nend\nset()\n",
	    "2: database: expected a non-empty string of at most 4095 bytes without NUL, got 5");

	/* wrong type and out of range, with the nested key's line */
	EXPECT_ERROR("-- a comment\nlimits = {\n  max_push_records = \"x\",\n}\n",
	    "3: limits.max_push_records: expected an integer from 1 to 100000, got \"x\"");
	EXPECT_ERROR("limits = { max_push_records = 1000, max_pull_records = 0.5 }\n",
	    "1: limits.max_pull_records: expected an integer from 1 to 100000, got 0.5");
	EXPECT_ERROR("tokens = { access_ttl = 5 }\n",
	    "1: tokens.access_ttl: expected an integer from 60 to 86400, got 5");
	EXPECT_ERROR("tokens = {\n  -- access_ttl = 1,\n  --[[ access_ttl = 2,\n ]] access_ttl = 3 }\n",
	    "4: tokens.access_ttl: expected an integer from 60 to 86400, got 3");
	EXPECT_ERROR("password_hash = { iterations = 999 }\n",
	    "1: password_hash.iterations: expected an integer from 1000 to 10000000, got 999");
	EXPECT_ERROR("require_https = \"yes\"\n",
	    "1: require_https: expected true or false, got \"yes\"");
	EXPECT_ERROR("slots = { enabled = 1 }\n",
	    "1: slots.enabled: expected true or false, got 1");
	EXPECT_ERROR("registration = \"public\"\n",
	    "1: registration: expected one of \"open\", \"invite\", \"closed\", got \"public\"");
	EXPECT_ERROR("database = \"\"\n",
	    "1: database: expected a non-empty string of at most 4095 bytes without NUL, got \"\"");
	EXPECT_ERROR("secret_file = \"a\\0b\"\n",
	    "1: secret_file: expected a non-empty string of at most 4095 bytes without NUL, got \"a\\000b\"");
	EXPECT_ERROR("limits = 5\n", "1: limits: expected a table, got 5");
	EXPECT_ERROR("limits = { 5 }\n", "1: unknown key 'limits[1]'");
	EXPECT_ERROR("tombstones = { keep_days = 0 }\n",
	    "1: tombstones.keep_days: expected an integer from 1 to 36500, got 0");
	EXPECT_ERROR("slots = { max_bytes = 17 * GiB }\n",
	    "1: slots.max_bytes: expected an integer from 1 to 1000000000, got 18253611008");
	EXPECT_ERROR("limits = { max_wait_seconds = 1/0 }\n",
	    "1: limits.max_wait_seconds: expected an integer from 0 to 3600, got inf");
	/* limits that contradict each other */
	EXPECT_ERROR("limits = { max_body_bytes = 100 * KiB }\n",
	    "1: limits.max_body_bytes: must be at least max_record_bytes (262144), got 102400");
	EXPECT_ERROR("limits = {\n  max_record_bytes = 9 * MiB,\n}\n",
	    "2: limits.max_record_bytes: expected an integer from 1 to max_body_bytes (8388608), got 9437184");
	/* lists */
	EXPECT_ERROR("metrics = {\n  allow = {\n    \"10.0.0.1\",\n    \"10.0.0.0/33\",\n  },\n}\n",
	    "4: metrics.allow[2]: expected an IPv4 or IPv6 address or a CIDR such as "
	    "\"10.0.0.0/8\", got \"10.0.0.0/33\"");
	EXPECT_ERROR("trusted_proxies = { \"localhost\" }\n",
	    "1: trusted_proxies[1]: expected an IPv4 or IPv6 address or a CIDR such as "
	    "\"10.0.0.0/8\", got \"localhost\"");
	EXPECT_ERROR("trusted_proxies = { \"::1/129\" }\n",
	    "1: trusted_proxies[1]: expected an IPv4 or IPv6 address or a CIDR such as "
	    "\"10.0.0.0/8\", got \"::1/129\"");
	EXPECT_ERROR("trusted_proxies = \"10.0.0.1\"\n",
	    "1: trusted_proxies: expected a list of addresses, got \"10.0.0.1\"");
	EXPECT_ERROR("metrics = { allow = { x = \"10.0.0.1\" } }\n",
	    "1: unknown key 'metrics.allow.x'");
	EXPECT_ERROR("cors = { origins = { \"https://example.org/\" } }\n",
	    "1: cors.origins[1]: expected \"*\" or an origin such as "
	    "\"https://example.org\" (lower case, no path), got \"https://example.org/\"");
	EXPECT_ERROR("cors = { origins = { \"example.org\" } }\n",
	    "1: cors.origins[1]: expected \"*\" or an origin such as "
	    "\"https://example.org\" (lower case, no path), got \"example.org\"");
	T_EQ_INT(load("cors = { origins = { \"*\", \"https://[::1]:8443\", \"http://127.0.0.1\" } }\n",
	    &c, err, sizeof err), 0);
	T_EQ_INT(c.cors.n_origins, 3);

	/* Lua's own errors keep Lua's text, with the path as given */
	EXPECT_ERROR("database = \"x\"\nlimits = {\n  max_push_records = = 3\n}\n",
	    "3: unexpected symbol near '='");
	EXPECT_ERROR("\nerror(\"boom\")\n", "2: boom");
	EXPECT_ERROR_HAS("error({})\n", "error object is a table value");
	EXPECT_ERROR_HAS("local x = nil + 1\n", ":1: attempt to perform arithmetic on a nil value");
	/* a message is always one line */
	EXPECT_ERROR("error(\"two\\nlines\")\n", "1: two lines");

	/* a missing file */
	snprintf(want, sizeof want, "%s/none.lua: cannot open: %s", dir, strerror(ENOENT));
	snprintf(none, sizeof none, "%s/none.lua", dir);
	T_EQ_INT(config_load(none, &c, err, sizeof err), -1);
	T_EQ_STR(err, want);
	T_EQ_INT(config_load(dir, &c, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", dir);
	T_EQ_STR(err, want);
	T_EQ_INT(config_load(NULL, &c, err, sizeof err), -1);
	T_OK(err[0] != '\0');
	/* a tiny error buffer is still terminated */
	T_EQ_INT(load("helper = 1\n", &c, err, 8), -1);
	T_EQ_INT((int)strlen(err), 7);
}

static int
dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
	(void)L;
	return fwrite(p, 1, sz, ud) == sz ? 0 : 1;
}

static void
test_sandbox(void)
{
	static struct config c;
	char err[1024], bc[300];
	lua_State *L;
	FILE *fp;

	/* real bytecode, made with lua_dump(), is refused */
	snprintf(bc, sizeof bc, "%s/bytecode.lua", dir);
	L = luaL_newstate();
	T_OK(L != NULL);
	if (L) {
		T_EQ_INT(luaL_loadstring(L, "database = \"pwned.db\""), LUA_OK);
		fp = fopen(bc, "wb");
		T_OK(fp != NULL);
		if (fp) {
			T_EQ_INT(lua_dump(L, dump_writer, fp, 0), 0);
			fclose(fp);
		}
		lua_close(L);
	}
	T_EQ_INT(config_load(bc, &c, err, sizeof err), -1);
	T_OK(strstr(err, "binary") != NULL && strncmp(err, bc, strlen(bc)) == 0);
	write_raw(bc, "\x1bLua\x54junk", 9);
	T_EQ_INT(config_load(bc, &c, err, sizeof err), -1);
	T_OK(strstr(err, "binary") != NULL);

	/* nothing reaches the system */
	EXPECT_ERROR_HAS("os.exit(1)\n", ":1: attempt to index a nil value (global 'os')");
	EXPECT_ERROR_HAS("local f = io.open(\"/etc/passwd\")\n", "global 'io'");
	EXPECT_ERROR_HAS("require(\"os\")\n", "global 'require'");
	EXPECT_ERROR_HAS("dofile(\"/etc/passwd\")\n", "global 'dofile'");
	EXPECT_ERROR_HAS("loadfile(\"/etc/passwd\")\n", "global 'loadfile'");
	EXPECT_ERROR_HAS("load(\"x = 1\")()\n", "global 'load'");
	EXPECT_ERROR_HAS("print(1)\n", "global 'print'");
	EXPECT_ERROR_HAS("collectgarbage()\n", "global 'collectgarbage'");
	EXPECT_ERROR_HAS("pcall(error)\n", "global 'pcall'");
	EXPECT_ERROR_HAS("local s = string.dump(function() end)\n", "field 'dump'");
	EXPECT_ERROR_HAS("local x = package.loaded\n", "global 'package'");
	EXPECT_ERROR_HAS("local x = debug.getinfo(1)\n", "global 'debug'");
	EXPECT_ERROR_HAS("rawset(_G, \"helper\", 1)\n", "global 'rawset'");
	EXPECT_ERROR_HAS("setmetatable(_G, nil)\n", "global 'setmetatable'");
	EXPECT_ERROR_HAS("getmetatable(\"\").__index.rep = nil\nlocal x = (\"a\"):rep(2)\n",
	    "attempt to call a nil value (method 'rep')");
	/* _G is the file's environment: assignments through it are recorded */
	EXPECT_ERROR("_G.helper = 1\n", "1: unknown key 'helper'");
	/* what stays: pairs, ipairs, tostring, select, string, table, math */
	T_EQ_INT(load("local t = {}\n"
	    "for _, v in ipairs({ 3, 1, 2 }) do table.insert(t, v) end\n"
	    "table.sort(t)\n"
	    "local n = 0 for _ in pairs(t) do n = n + 1 end\n"
	    "tombstones = { keep_days = math.max(t[3], n) * select('#', 1, 2) }\n"
	    "database = tostring(tonumber(\"12\")) .. \".db\"\n",
	    &c, err, sizeof err), 0);
	T_EQ_INT(c.tombstones.keep_days, 6);
	T_EQ_STR(c.database, "12.db");
	/* helpers may be shadowed; that is not a key */
	T_EQ_INT(load("KiB = 1000\nlimits = { max_body_bytes = 2000 * KiB }\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.limits.max_body_bytes, 2000000);

	/* bounded time and memory */
	EXPECT_ERROR("local n = 0\n\nwhile true do n = n + 1 end\n",
	    "3: instruction limit exceeded (a config may run at most 10000000 VM instructions)");
	EXPECT_ERROR_HAS("local function f() return f() end\nf()\n", "instruction limit exceeded");
	/* deep recursion runs out of memory (8 MiB) before Lua's stack limit */
	EXPECT_ERROR_HAS("local function f() return 1 + f() end\nf()\n", "not enough memory");
	EXPECT_ERROR("local s = string.rep(\"x\", 100 * MiB)\n",
	    " not enough memory (a config may use at most 8 MiB)");
	/* an empty result at once: Lua's own string.rep looped n times (make fuzz) */
	T_EQ_INT(load("local s = string.rep(\"\", 1e18) .. (\"\"):rep(1e18, \"\")\n"
	    "limits = { max_push_records = #s + #(\"ab\"):rep(3, \"-\") }\n", &c, err, sizeof err), 0);
	T_EQ_INT(c.limits.max_push_records, 8);
	EXPECT_ERROR_HAS("local s = string.rep(\"\", 1e18, \"x\")\n", "resulting string too large");
	EXPECT_ERROR("local t = {}\nfor i = 1, 1e9 do t[i] = i end\n",
	    " not enough memory (a config may use at most 8 MiB)");
	EXPECT_ERROR_HAS("local s = \"x\"\nwhile true do s = s .. s end\n", "not enough memory");
	/* no finalizers (Lua runs them with hooks off, so unbounded) */
	EXPECT_ERROR_HAS("setmetatable({}, { __gc = function() while true do end end })\n",
	    "global 'setmetatable'");
}

static void
test_kdf(void)
{
	static struct config c;
	char err[1024];

	T_EQ_INT(load("prelogin_fake_kdf = { alg = \"argon2id\", t = 3, m = 64 * KiB, p = 4,\n"
	    "  note = \"a\\\"b\\n\\1\", fast = false, [\"x-y\"] = true, big = 2^53 - 1 }\n",
	    &c, err, sizeof err), 0);
	T_EQ_STR(c.prelogin_fake_kdf_json,
	    "{\"alg\":\"argon2id\",\"big\":9007199254740991,\"fast\":false,\"m\":65536,"
	    "\"note\":\"a\\\"b\\n\\u0001\",\"p\":4,\"t\":3,\"x-y\":true}");
	T_EQ_INT(load("prelogin_fake_kdf = { alg = \"pbkdf2-sha256\" }\n", &c, err, sizeof err), 0);
	T_EQ_STR(c.prelogin_fake_kdf_json, "{\"alg\":\"pbkdf2-sha256\"}");
	EXPECT_ERROR("prelogin_fake_kdf = { iterations = 5 }\n",
	    "1: prelogin_fake_kdf: missing alg (the KDF name, e.g. \"pbkdf2-sha256\")");
	EXPECT_ERROR("prelogin_fake_kdf = {\n  alg = \"x\",\n  salt = \"abc\",\n}\n",
	    "3: prelogin_fake_kdf.salt: must not be set: the server adds a salt "
	    "derived from its secret and the username");
	EXPECT_ERROR("prelogin_fake_kdf = { alg = \"x\", opts = {} }\n",
	    "1: prelogin_fake_kdf.opts: expected a string, an integer or a boolean, got a table");
	EXPECT_ERROR("prelogin_fake_kdf = { alg = 5 }\n",
	    "1: prelogin_fake_kdf.alg: expected a non-empty string, got 5");
	EXPECT_ERROR("prelogin_fake_kdf = { alg = \"x\", m = 0.5 }\n",
	    "1: prelogin_fake_kdf.m: expected an integer from -9007199254740991 to "
	    "9007199254740991, got 0.5");
	EXPECT_ERROR("prelogin_fake_kdf = { alg = \"x\", \"y\" }\n",
	    "1: prelogin_fake_kdf[1]: keys must be strings");
	EXPECT_ERROR("prelogin_fake_kdf = { alg = \"\\255\" }\n",
	    "1: prelogin_fake_kdf.alg: expected a UTF-8 string");
	EXPECT_ERROR("prelogin_fake_kdf = { alg = string.rep(\"x\", 1100) }\n",
	    "1: prelogin_fake_kdf: as JSON it must fit in 1023 bytes");
}

/* Prints `c`, loads the output back, and compares. */
static void
round_trip(const struct config *c)
{
	static struct config back;
	char printed[300], err[1024];
	FILE *fp;
	int rc;

	snprintf(printed, sizeof printed, "%s/printed.lua", dir);
	fp = fopen(printed, "w");
	T_OK(fp != NULL);
	if (!fp)
		return;
	T_EQ_INT(config_print(c, fp), 0);
	fclose(fp);
	rc = config_load(printed, &back, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "  printed config: %s\n", err);
	T_EQ_INT(rc, 0);
	T_OK(cfg_equal(c, &back));
}

static void
test_print(void)
{
	static struct config c;
	char err[1024], buf[8192];
	FILE *fp;
	size_t n;

	config_defaults(&c);
	round_trip(&c);
	T_EQ_INT(load("database = \"/srv/blind\\\"sync\\n.db\"\n"
	    "secret_file = \"/srv/s\\1\\127\\200x\"\n"
	    "registration = \"invite\"\n"
	    "trusted_proxies = { \"10.0.0.0/8\", \"::1\" }\n"
	    "require_https = false\n"
	    "tokens = { access_ttl = 60 }\n"
	    "password_hash = { iterations = 1000 }\n"
	    "prelogin_fake_kdf = { alg = \"argon2id\", [\"m-cost\"] = 65536, [\"end\"] = true,"
	    " q = \"\\\"\\\\\\n\\t\\1\\127\" }\n"
	    "limits = { max_body_bytes = 3 * GiB // 4, max_record_bytes = 1000 }\n"
	    "plans = { [\"team-a\"] = { bytes = 0 }, zeta = { history_depth = 1000 },"
	    " default = { min_backup_bytes = 0 } }\n"
	    "rate_limits = { { route = \"*\", per = \"ip\", limit = 1000000000, window = 2678400 } }\n"
	    "tombstones = { keep_days = 36500 }\n"
	    "slots = { enabled = true, max_bytes = 1000000000 }\n"
	    "cors = { origins = { \"*\" } }\n"
	    "log = { level = \"error\" }\n"
	    "metrics = { allow = {} }\n", &c, err, sizeof err), 0);
	round_trip(&c);
	T_EQ_INT(c.n_plans, 3);
	T_EQ_INT(load("rate_limits = {}\n", &c, err, sizeof err), 0);
	round_trip(&c);

	/* the printout of the defaults reads like the shipped file */
	config_defaults(&c);
	fp = tmpfile();
	T_OK(fp != NULL);
	if (!fp)
		return;
	T_EQ_INT(config_print(&c, fp), 0);
	rewind(fp);
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	T_OK(strstr(buf, "max_body_bytes = 8 * MiB,\n") != NULL);
	T_OK(strstr(buf, "metrics = { allow = { \"127.0.0.1\", \"::1\" } }\n") != NULL);
	T_OK(strstr(buf, "prelogin_fake_kdf = { alg = \"argon2id\", m = 65536, p = 1, suite = \"bs1\", t = 3 }\n") != NULL);
	T_OK(strstr(buf, "  { route = \"account.login\", per = \"username\", limit = 10, window = 600 },\n") != NULL);
	T_OK(strstr(buf, "(built-in defaults)") != NULL);
}

static void
test_path(void)
{
	const char *p;

	setenv("BLINDSYNC_CONFIG", "/nonexistent/blindsync.lua", 1);
	p = config_path();
	T_EQ_STR(p, "/nonexistent/blindsync.lua");
	setenv("BLINDSYNC_CONFIG", "", 1);
	p = config_path();
	T_OK(p == NULL || access(p, F_OK) == 0);
	unsetenv("BLINDSYNC_CONFIG");
	p = config_path();
	T_OK(p == NULL || access(p, F_OK) == 0);
}

static atomic_int stop_threads;

static void *
acquirer(void *arg)
{
	long n = 0;

	(void)arg;
	while (!atomic_load(&stop_threads) || n < 1000) {
		const struct config *c = config_acquire();
		if (!c || c->n_plans < 1 || c->limits.max_push_records < 1) {
			fprintf(stderr, "FAIL acquirer: bad snapshot\n");
			return (void *)1;
		}
		config_release(c);
		n++;
	}
	return NULL;
}

static void
test_snapshots(void)
{
	const struct config *a, *b, *d;
	char err[1024], snap[300];
	pthread_t th[4];
	void *ret;
	int i;

	snprintf(snap, sizeof snap, "%s/snap.lua", dir);
	T_EQ_INT(config_acquire() == NULL, 1);
	T_EQ_INT(config_reload(err, sizeof err), -1);

	/* built-in defaults: nothing to reload */
	T_EQ_INT(config_init(NULL, err, sizeof err), 0);
	d = config_acquire();
	T_OK(d && d->path[0] == '\0' && d->limits.max_push_records == 1000);
	T_EQ_INT(config_reload(err, sizeof err), 0);
	T_EQ_INT(config_reload_if_changed(err, sizeof err), 0);

	/* a bad file at init keeps the current snapshot */
	write_text(snap, "limits = { max_push_records = 0 }\n");
	T_EQ_INT(config_init(snap, err, sizeof err), -1);
	T_OK(strstr(err, "limits.max_push_records") != NULL);
	a = config_acquire();
	T_OK(a == d);
	config_release(a);

	write_text(snap, "limits = { max_push_records = 11 }\n");
	T_EQ_INT(config_init(snap, err, sizeof err), 0);
	config_release(d);                 /* the defaults snapshot goes now */
	a = config_acquire();
	T_OK(a && a->limits.max_push_records == 11);
	T_EQ_INT(config_reload_if_changed(err, sizeof err), 0);   /* unchanged */

	/* a changed file (same second, other size) is seen at the first check */
	write_text(snap, "limits = { max_push_records = 222 }\n");
	T_EQ_INT(config_init(snap, err, sizeof err), 0);           /* resets the clock */
	config_release(a);
	a = config_acquire();
	write_text(snap, "limits = { max_push_records = 3333 }\n");
	T_EQ_INT(config_reload_if_changed(err, sizeof err), 1);
	b = config_acquire();
	T_OK(b && b != a && b->limits.max_push_records == 3333);
	/* the old snapshot stays valid for whoever holds it */
	T_EQ_INT(a->limits.max_push_records, 222);
	config_release(a);
	/* too soon to look again */
	write_text(snap, "limits = { max_push_records = 4 }\n");
	T_EQ_INT(config_reload_if_changed(err, sizeof err), 0);
	/* an explicit reload (SIGHUP) does not wait */
	T_EQ_INT(config_reload(err, sizeof err), 0);
	a = config_acquire();
	T_OK(a && a->limits.max_push_records == 4);
	config_release(a);

	/* a bad reload keeps the old snapshot and is reported once */
	write_text(snap, "limits = { max_push_records = \"many\" }\n");
	T_EQ_INT(config_reload(err, sizeof err), -1);
	T_OK(strstr(err, ":1: limits.max_push_records: expected an integer") != NULL);
	a = config_acquire();
	T_OK(a && a->limits.max_push_records == 4);
	config_release(a);
	{
		struct timespec ts = { 1, 100000000 };
		nanosleep(&ts, NULL);
	}
	T_EQ_INT(config_reload_if_changed(err, sizeof err), 0);   /* same bad file */
	write_text(snap, "limits = { max_push_records = \"more\", x = 1 }\n");
	{
		struct timespec ts = { 1, 100000000 };
		nanosleep(&ts, NULL);
	}
	T_EQ_INT(config_reload_if_changed(err, sizeof err), -1);
	T_OK(err[0] != '\0');

	/* readers in threads while the file is reloaded */
	atomic_store(&stop_threads, 0);
	for (i = 0; i < 4; i++)
		T_EQ_INT(pthread_create(&th[i], NULL, acquirer, NULL), 0);
	for (i = 0; i < 20; i++) {
		char text[64];
		snprintf(text, sizeof text, "limits = { max_push_records = %d }\n", 100 + i);
		write_text(snap, text);
		T_EQ_INT(config_reload(err, sizeof err), 0);
	}
	atomic_store(&stop_threads, 1);
	for (i = 0; i < 4; i++) {
		T_EQ_INT(pthread_join(th[i], &ret), 0);
		T_OK(ret == NULL);
	}
	a = config_acquire();
	T_OK(a && a->limits.max_push_records == 119);
	config_release(a);

	config_release(b);
	config_shutdown();
	T_OK(config_acquire() == NULL);
	config_release(NULL);
	config_shutdown();
}

int
main(void)
{
	if (t_tmpdir(dir, sizeof dir, "config") != 0)
		return 2;
	snprintf(path, sizeof path, "%s/t.lua", dir);

	T_RUN(test_defaults);
	T_RUN(test_shipped);
	T_RUN(test_empty_and_locals);
	T_RUN(test_merge);
	T_RUN(test_plans);
	T_RUN(test_rate_limits);
	T_RUN(test_errors);
	T_RUN(test_sandbox);
	T_RUN(test_kdf);
	T_RUN(test_print);
	T_RUN(test_path);
	T_RUN(test_snapshots);
	t_tmpdir_remove(dir);
	return t_done();
}
