/*
 * move.c: a whole store into another, empty one (move.h), through the
 * rows of store_copy.h: the source read in one snapshot (store_read), the
 * target written in one transaction (store_tx) table by table in
 * enum store_table's order, each blob staged chunk by chunk in a temporary
 * file; then every table counted and digested again, read back from the
 * target, and compared.
 *
 * Must never: write into a target that is not empty, hold a blob or a
 * table in memory, or report a move as done before the target committed
 * and its read-back matched.
 */
#include "move.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blobs.h"
#include "bsc.h"

#define MOVE_PROGRESS_EVERY 1000  /* rows between two progress calls */
#define MOVE_META_KEYS 64         /* meta rows of the source we verify by key */

struct move {
	struct store *src, *dst;
	const struct move_progress *p;
	struct move_report *rep;
	int64_t total[ST__MAX];       /* the source's rows, in its snapshot */
	enum store_table t;           /* the table being walked */
	int64_t done;
	struct bsc_sha256_ctx *h;     /* the table's digest */
	int fd;                       /* a blob staged on its way */
	char spool[STORE_LOCATION_MAX];
	char *meta_keys[MOVE_META_KEYS];
	int nmeta;
	enum err e;                   /* what stopped a walk */
	char why[512];                /* its sentence, when we have one */
};

/* ---- digests ---- */

/* Put n bytes of v, little-endian, into h. */
static void hash_u64(struct bsc_sha256_ctx *h, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	bsc_sha256_update(h, b, sizeof b);
}

/* Fold one row into the table's digest: each value tagged with its kind. */
static void hash_row(struct bsc_sha256_ctx *h, const struct store_table_info *ti, const struct store_value *row)
{
	for (int i = 0; i < ti->ncols; i++) {
		const struct store_value *v = &row[i];
		uint8_t tag = v->null ? 0 : ti->types[i] == SC_INT ? 1 : 2;
		bsc_sha256_update(h, &tag, 1);
		if (tag == 1) {
			hash_u64(h, (uint64_t)v->i);
		} else if (tag == 2) {
			hash_u64(h, v->len);
			bsc_sha256_update(h, v->p, v->len);
		}
	}
}

/* Progress of the walk, every MOVE_PROGRESS_EVERY rows and at its end. */
static void progress(struct move *m, const char *phase, int last)
{
	if (m->p && m->p->fn && (last || m->done % MOVE_PROGRESS_EVERY == 0))
		m->p->fn(m->p->ctx, phase, store_table_info(m->t)->name, m->done, m->total[m->t]);
}

/* ---- blobs ---- */

struct blob_sink {
	int fd;                       /* -1: hash only */
	int64_t off;
	struct bsc_sha256_ctx *h;
	int failed;
};

/* store_sink_fn: hash a piece of a blob and (when staging) write it to the file. */
static int blob_piece(void *ctx, const void *data, size_t n)
{
	struct blob_sink *b = ctx;
	bsc_sha256_update(b->h, data, n);
	if (b->fd >= 0) {
		const char *p = data;
		for (size_t put = 0; put < n;) {
			ssize_t w = pwrite(b->fd, p + put, n - put, (off_t)(b->off + (int64_t)put));
			if (w <= 0) {
				b->failed = 1;
				return -1;
			}
			put += (size_t)w;
		}
	}
	b->off += (int64_t)n;
	return 0;
}

/*
 * The data of the backup or slot `row` of store s: hashed into digest and,
 * with fd >= 0, written to fd from offset 0 (truncated first). The data
 * must be `bytes` long and hash to the row's sha256 column. ERR_OK, or an
 * error with m->why set.
 */
static enum err blob_walk(struct move *m, struct store *s, const struct store_value *row, int fd,
    uint8_t digest[BSC_SHA256_LEN])
{
	const struct store_table_info *ti = store_table_info(m->t);
	struct blob_sink b = {fd, 0, bsc_sha256_new(), 0};
	enum err e;
	if (!b.h)
		return ERR_INTERNAL;
	if (fd >= 0 && ftruncate(fd, 0) != 0) {
		bsc_sha256_free(b.h);
		snprintf(m->why, sizeof m->why, "cannot stage a blob: %s", strerror(errno));
		return ERR_UNAVAILABLE;
	}
	e = m->t == ST_BACKUPS ? store_backup_read(s, row[0].i, blob_piece, &b) : store_slot_read(s, row[0].i, blob_piece, &b);
	bsc_sha256_final(b.h, digest);
	if (e == ERR_OK && b.failed) {
		snprintf(m->why, sizeof m->why, "cannot stage a blob: %s", strerror(errno));
		return ERR_UNAVAILABLE;
	}
	if (e)
		return e;
	/* both tables: bytes is the fifth column, sha256 the sixth */
	if (b.off != row[4].i || row[5].len != BSC_SHA256_LEN || memcmp(row[5].p, digest, BSC_SHA256_LEN) != 0) {
		snprintf(m->why, sizeof m->why, "%s row %lld: its data (%lld bytes) does not match its bytes and sha256 "
		    "columns (%lld bytes)", ti->name, (long long)row[0].i, (long long)b.off, (long long)row[4].i);
		return ERR_INTERNAL;
	}
	m->rep->blob_bytes += fd >= 0 ? b.off : 0;
	return ERR_OK;
}

/* ---- the copy ---- */

/* 1 if row (of meta) is a key of the source's, remembered while copying. */
static int meta_known(const struct move *m, const struct store_value *row)
{
	for (int i = 0; i < m->nmeta; i++)
		if (strlen(m->meta_keys[i]) == row[0].len && memcmp(m->meta_keys[i], row[0].p, row[0].len) == 0)
			return 1;
	return 0;
}

/* store_copy_rows callback: one source row into the target. */
static int copy_row(void *ctx, const struct store_value *row)
{
	struct move *m = ctx;
	const struct store_table_info *ti = store_table_info(m->t);
	uint8_t digest[BSC_SHA256_LEN];
	hash_row(m->h, ti, row);
	if (m->t == ST_META) {
		if (m->nmeta == MOVE_META_KEYS || !(m->meta_keys[m->nmeta] = strndup(row[0].p, row[0].len))) {
			m->e = ERR_INTERNAL;
			snprintf(m->why, sizeof m->why, "the source's meta table has too many rows");
			return 1;
		}
		m->nmeta++;
	}
	if (ti->has_data) {
		if ((m->e = blob_walk(m, m->src, row, m->fd, digest)))
			return 1;
		bsc_sha256_update(m->h, digest, sizeof digest);
	}
	if ((m->e = store_copy_insert(m->dst, m->t, row, m->fd))) {
		if (m->e == ERR_CONFLICT)
			snprintf(m->why, sizeof m->why, "%s: a row of the source is in the target already", ti->name);
		return 1;
	}
	m->done++;
	progress(m, "copy", 0);
	return 0;
}

/* store_copy_rows callback: one target row into the digest (the verification). */
static int verify_row(void *ctx, const struct store_value *row)
{
	struct move *m = ctx;
	const struct store_table_info *ti = store_table_info(m->t);
	uint8_t digest[BSC_SHA256_LEN];
	if (m->t == ST_META && !meta_known(m, row))
		return 0; /* a key of the target's own */
	hash_row(m->h, ti, row);
	if (ti->has_data) {
		if ((m->e = blob_walk(m, m->dst, row, -1, digest)))
			return 1;
		bsc_sha256_update(m->h, digest, sizeof digest);
	}
	m->done++;
	progress(m, "verify", 0);
	return 0;
}

/*
 * Walk table t of s with fn, from a fresh digest into out. ERR_OK, or the
 * error that stopped it (m->e, m->why).
 */
static enum err walk(struct move *m, struct store *s, enum store_table t, int (*fn)(void *, const struct store_value *),
    const char *phase, uint8_t out[BSC_SHA256_LEN])
{
	m->t = t;
	m->done = 0;
	m->e = ERR_OK;
	if (!(m->h = bsc_sha256_new()))
		return ERR_INTERNAL;
	enum err e = store_copy_rows(s, t, fn, m);
	if (!e)
		e = m->e;
	bsc_sha256_final(m->h, out);
	m->h = NULL;
	if (!e)
		progress(m, phase, 1);
	return e;
}

/* store_tx body on the target: every table of the source, in order. */
static enum err copy_tx(struct store *dst, void *arg)
{
	struct move *m = arg;
	enum err e;
	for (int t = 0; t < ST__MAX; t++) {
		if ((e = walk(m, m->src, (enum store_table)t, copy_row, "copy", m->rep->digest[t])))
			return e;
		m->rep->rows[t] = m->done;
	}
	return store_copy_finish(dst);
}

/* store_read body on the source: count its tables, then copy them in one target transaction. */
static enum err source_tx(struct store *src, void *arg)
{
	struct move *m = arg;
	enum err e;
	for (int t = 0; t < ST__MAX; t++)
		if ((e = store_copy_count(src, (enum store_table)t, &m->total[t])))
			return e;
	return store_tx(m->dst, copy_tx, m);
}

/* store_read body on the target: how many rows it holds, meta aside. */
static enum err empty_tx(struct store *dst, void *arg)
{
	int64_t *n = arg, c;
	enum err e;
	*n = 0;
	for (int t = ST_META + 1; t < ST__MAX; t++) {
		if ((e = store_copy_count(dst, (enum store_table)t, &c)))
			return e;
		*n += c;
	}
	return ERR_OK;
}

/* store_read body on the target: count and digest every table again. */
static enum err verify_tx(struct store *dst, void *arg)
{
	struct move *m = arg;
	uint8_t digest[BSC_SHA256_LEN];
	enum err e;
	for (int t = 0; t < ST__MAX; t++) {
		m->total[t] = m->rep->rows[t];
		if ((e = walk(m, dst, (enum store_table)t, verify_row, "verify", digest)))
			return e;
		const char *name = store_table_info((enum store_table)t)->name;
		if (m->done != m->rep->rows[t]) {
			snprintf(m->why, sizeof m->why, "verification: %s has %lld rows in the target, %lld in the source",
			    name, (long long)m->done, (long long)m->rep->rows[t]);
			return ERR_INTERNAL;
		}
		if (memcmp(digest, m->rep->digest[t], sizeof digest) != 0) {
			snprintf(m->why, sizeof m->why, "verification: the rows of %s differ between the source and the target",
			    name);
			return ERR_INTERNAL;
		}
	}
	return ERR_OK;
}

/* errbuf gets "WHAT: m->why" when set, else "WHAT: the error's message". */
static void say(const struct move *m, enum err e, const char *what, char *errbuf, size_t errlen)
{
	if (m->why[0])
		snprintf(errbuf, errlen, "%s: %s", what, m->why);
	else
		snprintf(errbuf, errlen, "%s: %s", what,
		    e == ERR_UNAVAILABLE ? "the store is busy or unavailable" : err_message(e));
}

/* Remove a new SQLite store that a failed move created, with the files beside it. */
static void remove_sqlite(const char *path)
{
	static const char *const sides[] = {"-wal", "-shm", "-journal", "-writelock"};
	char side[STORE_LOCATION_MAX + 16];
	unlink(path);
	for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
		snprintf(side, sizeof side, "%s%s", path, sides[i]);
		unlink(side);
	}
}

int move_store(const char *from, const char *to, const struct move_progress *p, struct move_report *out,
    char *errbuf, size_t errlen)
{
	struct move m;
	int ret = -1, version, created = 0, committed = 0;
	int64_t n = 0;
	enum err e;
	memset(&m, 0, sizeof m);
	memset(out, 0, sizeof *out);
	m.p = p;
	m.rep = out;
	m.fd = -1;
	if (strcmp(from, to) == 0) {
		snprintf(errbuf, errlen, "the target is the store itself");
		return -1;
	}
	int had = store_location_probe(to, &version, errbuf, errlen);
	if (had < 0)
		return -1;
	if (had && !store_location_shared(to)) {
		snprintf(errbuf, errlen, "%s exists; the target of a move to SQLite is a new file", to);
		return -1;
	}
	created = !had;
	if (store_migrate(from, errbuf, errlen) != 0 || store_migrate(to, errbuf, errlen) != 0 ||
	    store_open(from, STORE_RO, &m.src, errbuf, errlen) != 0 || store_open(to, STORE_RW, &m.dst, errbuf, errlen) != 0)
		goto out;
	if ((e = store_read(m.dst, empty_tx, &n))) {
		say(&m, e, "cannot read the target", errbuf, errlen);
		goto out;
	}
	if (n > 0) {
		snprintf(errbuf, errlen, "the target is not empty (%lld rows); migrate-store fills an empty store only",
		    (long long)n);
		goto out;
	}
	blobs_dir(from, m.spool, sizeof m.spool);
	if (blobs_tmpfile(m.spool, "migrate-store", &m.fd) != ERR_OK) {
		snprintf(errbuf, errlen, "cannot create a temporary file in %s: %s", m.spool, strerror(errno));
		goto out;
	}
	if ((e = store_read(m.src, source_tx, &m))) {
		say(&m, e, created ? "the copy failed, and the new store was removed"
		    : "the copy failed, and the target was left as it was", errbuf, errlen);
		goto out;
	}
	committed = 1;
	if ((e = store_read(m.dst, verify_tx, &m))) {
		say(&m, e, "the copy was made but does not verify", errbuf, errlen);
		goto out;
	}
	ret = 0;
out:
	bsc_sha256_free(m.h);
	for (int i = 0; i < m.nmeta; i++)
		free(m.meta_keys[i]);
	if (m.fd >= 0)
		close(m.fd);
	store_close(m.src);
	store_close(m.dst);
	if (ret != 0 && created && !committed && !store_location_shared(to))
		remove_sqlite(to);
	return ret;
}
