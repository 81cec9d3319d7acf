/*
 * status.c: blindsync-status, the public and status routes.
 *   GET /v1/info     server facts and limits from the config (§2)
 *   GET /v1/health   {"ok":true} when the store answers, else 503
 * Opens the store read-only: it never writes.
 */
#include "json.h"
#include "serve.h"

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

static const struct route routes[] = {
	{M_GET, "/info", info, "status.info", 0},
	{M_GET, "/health", health, "status.health", 0},
};

static const struct handler handler = {"status", routes, sizeof routes / sizeof routes[0], STORE_RO, NULL};

int main(int argc, char **argv) { return serve_main(argc, argv, &handler); }
