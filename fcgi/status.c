/*
 * status.c: blindsync-status, the public and status routes.
 *   GET /v1/info     server facts and limits from the config (§2)
 *   GET /v1/health   {"ok":true} when the store answers, else 503
 *   GET /v1/status   the account's counters (never a scan), ETag, 304, long-poll
 *   GET /v1/metrics  Prometheus text, only for the addresses of metrics.allow
 * Opens the store read-only: it never writes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "json.h"
#include "serve.h"
#include "share.h"
#include "sync.h"
#include "syncio.h"

static enum err info(struct req *r)
{
	const struct config *c = r->cfg;
	const struct plan *p = &c->plans[0]; /* the default plan */
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "api"); jw_int(&w, 1);
	jw_key(&w, "version"); jw_str(&w, BLINDSYNC_VERSION);
	jw_key(&w, "registration"); jw_str(&w, config_registration_name(c->registration));
	jw_key(&w, "slots"); jw_bool(&w, c->slots.enabled);
	/* a plain CGI host cannot proxy a WebSocket (docs/API-live.md) */
	jw_key(&w, "live"); jw_bool(&w, c->live.enabled && r->fcgx != NULL);
	jw_key(&w, "sharing"); jw_bool(&w, 1); /* docs/API-sharing.md */
	jw_key(&w, "limits");
	jw_obj_begin(&w);
	jw_key(&w, "max_body_bytes"); jw_int(&w, c->limits.max_body_bytes);
	jw_key(&w, "max_record_bytes"); jw_int(&w, c->limits.max_record_bytes);
	jw_key(&w, "max_push_records"); jw_int(&w, c->limits.max_push_records);
	jw_key(&w, "max_pull_records"); jw_int(&w, c->limits.max_pull_records);
	jw_key(&w, "max_backup_bytes"); jw_int(&w, p->backup_bytes);
	jw_key(&w, "min_backup_bytes"); jw_int(&w, p->min_backup_bytes);
	jw_key(&w, "max_backups"); jw_int(&w, p->backups);
	jw_key(&w, "max_wait_seconds"); jw_int(&w, c->limits.max_wait_seconds);
	jw_obj_end(&w);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err health(struct req *r)
{
	enum err e = store_health(r->store);
	if (e != ERR_OK)
		return http_fail(r, ERR_UNAVAILABLE, "The store does not answer.");
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "ok"); jw_bool(&w, 1);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

/* 1 if an If-None-Match list names etag (or is "*"); weak tags compare weakly. */
static int etag_matches(const char *inm, const char *etag)
{
	if (!inm)
		return 0;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", inm);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ' || *t == '\t')
			t++;
		size_t n = strlen(t);
		while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
			t[--n] = '\0';
		if (strcmp(t, "*") == 0)
			return 1;
		if (strncmp(t, "W/", 2) == 0)
			t += 2;
		if (strcmp(t, etag) == 0)
			return 1;
	}
	return 0;
}

struct status_ctx {
	struct req *r;
	struct store_account a;
	struct jw w;
};

static int emit_status_collection(void *ctx, const struct store_collection *c)
{
	syncio_collection(ctx, c, 0);
	return 0;
}

/* The account, its collections and backups from one snapshot. */
static enum err status_tx(struct store *s, void *arg)
{
	struct status_ctx *x = arg;
	struct req *r = x->r;
	enum err e = store_status_hint(s, r->account_id);
	if (e || (e = store_account_by_id(s, r->account_id, &x->a)))
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	buf_reset(&r->out, 0);
	jw_init(&x->w, &r->out);
	jw_obj_begin(&x->w);
	jw_key(&x->w, "server_time"); jw_time(&x->w, (int64_t)time(NULL));
	jw_key(&x->w, "account_version"); jw_int(&x->w, x->a.account_version);
	jw_key(&x->w, "usage");
	jw_obj_begin(&x->w);
	jw_key(&x->w, "bytes"); jw_int(&x->w, x->a.usage_bytes);
	jw_key(&x->w, "records"); jw_int(&x->w, x->a.usage_records);
	jw_obj_end(&x->w);
	jw_key(&x->w, "quota");
	jw_obj_begin(&x->w);
	jw_key(&x->w, "bytes"); jw_int(&x->w, sync_quota(r->cfg, &x->a));
	jw_obj_end(&x->w);
	jw_key(&x->w, "collections");
	jw_arr_begin(&x->w);
	if ((e = store_collection_list(s, r->account_id, emit_status_collection, &x->w)) ||
	    (e = share_list(s, r->account_id, NULL, &x->w, 0)))
		return e;
	jw_arr_end(&x->w);
	jw_key(&x->w, "backups");
	jw_arr_begin(&x->w);
	if ((e = store_backup_list(s, r->account_id, syncio_backup, &x->w)))
		return e;
	jw_arr_end(&x->w);
	jw_obj_end(&x->w);
	return ERR_OK;
}

/* route.early: a status's reads go with the token's lookup. */
static void status_early(struct req *r, const uint8_t token_hash[32])
{
	store_status_early(r->store, token_hash);
}

static enum err status(struct req *r)
{
	const struct auth *a = r->auth;
	struct status_ctx x;
	int64_t wait;
	char etag[32];
	enum err e;
	memset(&x, 0, sizeof x);
	x.r = r;
	if ((e = http_query_int(r, "wait", 0, 86400, 0, &wait)))
		return e;
	if (wait > r->cfg->limits.max_wait_seconds)
		wait = r->cfg->limits.max_wait_seconds;
	const char *inm = http_header(r, "If-None-Match");
	struct core_watch cw;
	serve_watch_init(&cw, a->account_id, NULL, a->account_id);
	if ((e = store_read(r->store, status_tx, &x)))
		return e;
	snprintf(etag, sizeof etag, "\"%lld\"", (long long)x.a.account_version);
	if (etag_matches(inm, etag) && wait > 0 && serve_wait_begin() == 0) {
		/* long-poll: answer as soon as the account changes, or 401 as
		 * soon as this device's session ends */
		int64_t deadline = serve_now_ms() + wait * 1000;
		int moved;
		while (etag_matches(inm, etag) && (moved = serve_watch(&cw, deadline))) {
			if (((moved & SERVE_WATCH_SESSION) && (e = auth_recheck(r))) ||
			    (e = store_read(r->store, status_tx, &x)))
				break;
			snprintf(etag, sizeof etag, "\"%lld\"", (long long)x.a.account_version);
		}
		serve_wait_end();
		if (e)
			return e;
	}
	http_add_header(r, "ETag", "%s", etag);
	if (etag_matches(inm, etag)) {
		http_respond(r, 304, NULL);
		return ERR_OK;
	}
	http_respond_json(r, 200);
	return ERR_OK;
}

/* Only for metrics.allow; everyone else gets the 404 of an unknown route. */
static enum err metrics(struct req *r)
{
	const struct config *c = r->cfg;
	if (!serve_addr_in(r->remote_addr, c->metrics.allow, c->metrics.n_allow))
		return http_fail(r, ERR_NOT_FOUND, "Not found.");
	struct store_stats st;
	enum err e = store_stats(r->store, &st);
	if (e)
		return e;
	serve_metrics(&r->out);
	buf_printf(&r->out,
	    "# HELP blindsync_store_bytes Size of the store file and its WAL.\n"
	    "# TYPE blindsync_store_bytes gauge\nblindsync_store_bytes %lld\n"
	    "# HELP blindsync_accounts Accounts.\n# TYPE blindsync_accounts gauge\nblindsync_accounts %lld\n"
	    "# HELP blindsync_records Current records, tombstones excluded.\n"
	    "# TYPE blindsync_records gauge\nblindsync_records %lld\n"
	    "# HELP blindsync_bytes Bytes counted against quotas (records, history, backups).\n"
	    "# TYPE blindsync_bytes gauge\nblindsync_bytes %lld\n"
	    "# HELP blindsync_backups Backups.\n# TYPE blindsync_backups gauge\nblindsync_backups %lld\n"
	    "# HELP blindsync_slots Anonymous slots.\n# TYPE blindsync_slots gauge\nblindsync_slots %lld\n",
	    (long long)st.file_bytes, (long long)st.accounts, (long long)st.records, (long long)st.bytes,
	    (long long)st.backups, (long long)st.slots);
	http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8");
	return ERR_OK;
}

static const struct route routes[] = {
	{.method = M_GET, .pattern = "/info", .fn = info, .name = "status.info"},
	{.method = M_GET, .pattern = "/health", .fn = health, .name = "status.health"},
	{.method = M_GET, .pattern = "/status", .fn = status, .name = "status", .auth = RA_BEARER,
	 .early = status_early},
	{.method = M_GET, .pattern = "/metrics", .fn = metrics, .name = "metrics"},
};

static const struct handler handler = {"status", routes, sizeof routes / sizeof routes[0], STORE_RO, NULL, NULL,
    SERVE_SHARED_CONNECTIONS};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
