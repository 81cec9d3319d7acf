/*
 * transfer.c: export and import of a whole account (api.md §8); the format
 * and the plan are in transfer.h, the contract in docs/API-transfer.md.
 *
 * Export: one store_read() snapshot walked row by row (collections, then
 * each collection's records in version order, each record's kept history
 * newest first, then the backups chunk by chunk) into a buffer that flushes
 * to the caller's writer. Nothing is collected first.
 *
 * Import: two passes of the same walker. Pass 1 (x->dry) reads the caller's reader as
 * it arrives, copying it to an unnamed temporary file (a tee under the
 * parser), so the first error in the document's shape or rules stops the
 * upload there, before the rest is read or stored; it runs outside any
 * transaction, checks every rule and decodes each backup into its own
 * temporary file. Pass 2 reads the staged copy.
 * Pass 2 runs inside one store_tx(): it checks everything again against
 * the account as it is then, and inserts. Base64 values (payloads, meta,
 * keyring, backup data) are decoded while the parser streams them, so no
 * base64 text is ever held, only decoded values up to their limits.
 *
 * Must never: write before the transaction, keep a row, a backup or the
 * document in memory, or let a failed import leave anything behind; know
 * about HTTP (transfer_http.c is the FastCGI side).
 */
#include "transfer.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "blobs.h"
#include "bsc.h"
#include "json.h"
#include "jstream.h"
#include "log.h"
#include "core.h"
#include "store.h"
#include "sync.h"
#include "syncio.h"
#include "valid.h"

/* ======================================================================
 * Export
 * ====================================================================== */

/* One export: how to answer, the snapshot's store and the writer. */
struct exp {
	const struct transfer_reply *rp;
	struct buf out;         /* flushes to rp->out */
	struct store *s;
	int64_t account_id;
	struct jw w;
	struct jw_b64s b64;     /* the backup being written */
	int64_t collection_id;  /* the collection being written */
	enum err e;             /* a store error inside a nested walk */
	int started;            /* the response is streaming */
};

/* 1 when the response takes no more (the client went away): stop walking. */
static int gone(const struct exp *x) { return buf_error(&x->out); }

/* The buffer's sink: the caller's writer. */
static int exp_sink(void *ctx, const char *data, size_t n)
{
	const struct transfer_reply *rp = ctx;
	return rp->out.fn(rp->out.ctx, data, n);
}

/* One older version of a record (store_transfer_history callback). */
static int exp_history(void *ctx, const struct store_record *v)
{
	struct exp *x = ctx;
	jw_obj_begin(&x->w);
	syncio_version(&x->w, v);
	jw_obj_end(&x->w);
	return gone(x);
}

/* One record with its history (store_record_pull callback). */
static int exp_record(void *ctx, const struct store_record *rec)
{
	struct exp *x = ctx;
	jw_obj_begin(&x->w);
	jw_key(&x->w, "id"); jw_str(&x->w, rec->rid);
	syncio_version(&x->w, rec);
	jw_key(&x->w, "history");
	jw_arr_begin(&x->w);
	enum err e = store_transfer_history(x->s, x->collection_id, rec->rid, exp_history, x);
	if (e) {
		x->e = e;
		return 1;
	}
	jw_arr_end(&x->w);
	jw_obj_end(&x->w);
	return gone(x);
}

/* One collection with its records (store_collection_list callback). */
static int exp_collection(void *ctx, const struct store_collection *c)
{
	struct exp *x = ctx;
	jw_obj_begin(&x->w);
	jw_key(&x->w, "name"); jw_str(&x->w, c->name);
	jw_key(&x->w, "meta");
	if (c->meta)
		jw_b64(&x->w, c->meta, c->meta_len);
	else
		jw_null(&x->w);
	jw_key(&x->w, "version"); jw_int(&x->w, c->version);
	jw_key(&x->w, "purged_version"); jw_int(&x->w, c->purged_version);
	jw_key(&x->w, "records");
	jw_arr_begin(&x->w);
	x->collection_id = c->id;
	enum err e = store_record_pull(x->s, c->id, 0, INT64_MAX, exp_record, x);
	if (e && !x->e)
		x->e = e;
	if (x->e || gone(x))
		return 1;
	jw_arr_end(&x->w);
	jw_obj_end(&x->w);
	return 0;
}

/* A piece of a backup's data (store_backup_read sink). */
static int exp_blob(void *ctx, const void *data, size_t n)
{
	struct exp *x = ctx;
	jw_b64_part(&x->b64, data, n);
	return gone(x) ? -1 : 0;
}

/* One backup with its data (store_backup_list callback). */
static int exp_backup(void *ctx, const struct store_backup *b)
{
	struct exp *x = ctx;
	char hex[65];
	bsc_hex(b->sha256, sizeof b->sha256, hex, sizeof hex);
	jw_obj_begin(&x->w);
	jw_key(&x->w, "name"); jw_str(&x->w, b->name);
	jw_key(&x->w, "version"); jw_int(&x->w, b->version);
	jw_key(&x->w, "modified_at"); jw_time(&x->w, b->modified_at);
	jw_key(&x->w, "sha256"); jw_str(&x->w, hex);
	jw_key(&x->w, "data");
	jw_b64_begin(&x->w, &x->b64);
	enum err e = store_backup_read(x->s, b->id, exp_blob, x);
	if (e) {
		x->e = e;
		return 1;
	}
	if (gone(x))
		return 1;
	jw_b64_end(&x->b64);
	jw_obj_end(&x->w);
	return 0;
}

/* The whole document from one snapshot. */
static enum err export_tx(struct store *s, void *arg)
{
	struct exp *x = arg;
	struct store_account acc;
	uint8_t *keyring = NULL;
	size_t keyring_len = 0;
	int64_t keyring_version = 0;
	enum err e = store_account_by_id(s, x->account_id, &acc);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	if ((e = store_account_keyring(s, x->account_id, &keyring, &keyring_len, &keyring_version)))
		return e;
	x->s = s;
	x->started = 1;
	if (x->rp->begin(x->rp->ctx, acc.username) <= 0) {
		free(keyring);
		return ERR_OK;
	}
	buf_set_sink(&x->out, exp_sink, (void *)x->rp, 64 * 1024);
	jw_init(&x->w, &x->out);
	jw_obj_begin(&x->w);
	jw_key(&x->w, "format"); jw_str(&x->w, TRANSFER_FORMAT);
	jw_key(&x->w, "username"); jw_str(&x->w, acc.username);
	jw_key(&x->w, "kdf"); jw_raw(&x->w, acc.kdf, strlen(acc.kdf));
	jw_key(&x->w, "keyring");
	if (keyring)
		jw_b64(&x->w, keyring, keyring_len);
	else
		jw_null(&x->w);
	free(keyring);
	/* the version the keyring was sealed at (a client opens it without a search); 0: none */
	jw_key(&x->w, "keyring_version"); jw_int(&x->w, keyring ? keyring_version : 0);
	jw_key(&x->w, "collections");
	jw_arr_begin(&x->w);
	e = store_collection_list(s, x->account_id, exp_collection, x);
	if (e || (e = x->e) || gone(x))
		return e;
	jw_arr_end(&x->w);
	jw_key(&x->w, "backups");
	jw_arr_begin(&x->w);
	e = store_backup_list(s, x->account_id, exp_backup, x);
	if (e || (e = x->e) || gone(x))
		return e;
	jw_arr_end(&x->w);
	jw_obj_end(&x->w);
	buf_flush(&x->out);
	return ERR_OK;
}

enum err transfer_export_write(struct store *s, int64_t account_id, const struct transfer_reply *rp, int *started)
{
	struct exp x;
	memset(&x, 0, sizeof x);
	x.rp = rp;
	x.account_id = account_id;
	buf_init(&x.out, 0);
	enum err e = store_read(s, export_tx, &x);
	*started = x.started;
	if (x.started) {
		/* begin() was called: a failure can only cut the document short */
		if (e)
			log_msg(LOG_ERROR, "export: account %" PRId64 ": stopped by a store error (%s); the document sent is incomplete",
			    account_id, err_code(e));
		else if (gone(&x)) {
			log_msg(LOG_WARN, "export: account %" PRId64 ": the client went away; the document sent is incomplete",
			    account_id);
			e = ERR_UNAVAILABLE;
		}
	}
	buf_free(&x.out);
	return e;
}

/* ======================================================================
 * Import
 * ====================================================================== */

#define B64_SLICE (64 * 1024)  /* base64 characters decoded at a time (a multiple of 4) */

/*
 * A base64 value decoded while the parser streams it: into a growing buffer
 * (mem, for payloads, meta, keyring) or into a file with its SHA-256 (fd >=
 * 0, for backups), never more than max bytes.
 */
struct b64dec {
	uint8_t *mem;
	size_t cap;
	int fd;
	struct bsc_sha256_ctx *sha;
	uint8_t *scratch;   /* file mode: B64_SLICE / 4 * 3 bytes */
	struct bsc_b64_dec st; /* the one streaming decoder: carry, padding seen */
	int bad, over, ioerr;
	int64_t size, max;
};

/* Start a value of at most max bytes (memory mode keeps its buffer). */
static void dec_reset(struct b64dec *d, int64_t max)
{
	bsc_b64_dec_init(&d->st, BSC_B64_STD);
	d->bad = d->over = d->ioerr = 0;
	d->size = 0;
	d->max = max;
}

/* Decode m characters (at most B64_SLICE) to the destination. 0 or -1. */
static int dec_emit(struct b64dec *d, const char *src, size_t m)
{
	size_t maxout = bsc_b64_dec_update_max(&d->st, m); /* <= B64_SLICE / 4 * 3 */
	uint8_t *dst;
	/* padding takes off at most 2 bytes: beyond that it is over for sure */
	if (d->size + (int64_t)maxout - 2 > d->max) {
		d->over = 1;
		return -1;
	}
	if (d->fd >= 0) {
		dst = d->scratch;
	} else {
		size_t need = (size_t)d->size + maxout;
		if (need > d->cap) {
			size_t cap = d->cap ? d->cap : 1024;
			while (cap < need)
				cap *= 2;
			uint8_t *p = realloc(d->mem, cap);
			if (!p) {
				d->ioerr = 1;
				return -1;
			}
			d->mem = p;
			d->cap = cap;
		}
		dst = d->mem ? d->mem + d->size : NULL; /* NULL only while maxout is 0 */
	}
	long got = bsc_b64_dec_update(&d->st, src, m, dst, maxout);
	if (got < 0) {
		d->bad = 1;
		return -1;
	}
	if (d->size + got > d->max) {
		d->over = 1;
		return -1;
	}
	if (d->fd >= 0) {
		for (long off = 0; off < got;) {
			ssize_t w = write(d->fd, dst + off, (size_t)(got - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				log_msg(LOG_ERROR, "import: cannot write a temporary file: %s", strerror(errno));
				d->ioerr = 1;
				return -1;
			}
			off += w;
		}
		if (bsc_sha256_update(d->sha, dst, (size_t)got) != 0) {
			d->ioerr = 1;
			return -1;
		}
	}
	d->size += got;
	return 0;
}

/* jstream sink: base64 text in pieces of any length, B64_SLICE at a time. */
static int dec_sink(void *ctx, const void *data, size_t n)
{
	struct b64dec *d = ctx;
	const char *p = data;
	while (n > 0) {
		size_t m = n < B64_SLICE ? n : B64_SLICE;
		if (dec_emit(d, p, m))
			return -1;
		p += m;
		n -= m;
	}
	return 0;
}

/* A pass-1 backup: its data in a temporary file. */
struct blob {
	int fd;
	int64_t size;
	uint8_t sha[32];
};

/* Pass 1's source: the caller's reader, copied to the staged file as it is read. */
struct tee {
	const struct core_reader *rd;
	int fd;          /* the staged copy */
	int64_t len;     /* Content-Length */
	int64_t have;    /* read (and staged) so far */
	int cut;         /* the body ended before len bytes */
};

/* jstream_read_fn over the caller's reader: read, stage, hand to the parser. */
static long tee_read(void *ctx, void *buf, size_t n)
{
	struct tee *t = ctx;
	if (t->have >= t->len)
		return 0;
	if ((int64_t)n > t->len - t->have)
		n = (size_t)(t->len - t->have);
	long got = t->rd->fn(t->rd->ctx, buf, n);
	if (got <= 0) {
		t->cut = 1;
		return 0;
	}
	for (size_t done = 0; done < (size_t)got;) {
		ssize_t w = write(t->fd, (const char *)buf + done, (size_t)got - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_msg(LOG_ERROR, "import: cannot write the temporary file: %s", strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	t->have += got;
	return got;
}

/* One import: its input, the account and its limits, and the state of a pass. */
struct imp {
	const struct transfer_import_in *in;
	char *msg;                 /* the sentence of a refusal (msglen bytes) */
	size_t msglen;
	const struct config *c;
	const struct auth *auth;
	struct store *s;
	int dry;                   /* pass 1: check, decode backups, write nothing */
	int fd;                    /* the staged document */
	struct tee *tee;           /* pass 1: read the body through this instead */
	struct jstream *js;
	int64_t now;
	/* the account and its limits, read at the start of each pass */
	struct store_account acc;
	const struct plan *plan;
	int64_t quota, keep, backup_max;
	char dir[4096];            /* for temporary files, beside the store */
	/* what the document adds */
	int64_t bytes, records, ncollections, nbackups, dropped;
	/* backups decoded by pass 1, in document order */
	struct blob *blobs;
	size_t nblobs;
	/* the keyring of the document */
	uint8_t *keyring;
	size_t keyring_len;
	int has_keyring;
	/* decoders, reused: the record's payload, a history payload, meta/keyring, a backup */
	struct b64dec pay, hpay, small, file;
	/* the newest `keep` older versions of the record being read */
	struct { int64_t version, bytes; } *top;
	size_t ntop;
};

/* Refuse with e and the sentence "PATH: sentence" (or the sentence alone without a path). */
static enum err bad(struct imp *x, enum err e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum err bad(struct imp *x, enum err e, const char *path, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (path && *path)
		snprintf(x->msg, x->msglen, "%s: %s", path, msg);
	else
		snprintf(x->msg, x->msglen, "%s", msg);
	return e;
}

/* The answer to a parser error (not one raised by a decoder's sink). */
static enum err lexfail(struct imp *x)
{
	enum jstream_err je = jstream_errcode(x->js);
	unsigned long long off = (unsigned long long)jstream_offset(x->js);
	switch (je) {
	case JSTREAM_E_READ:
		log_msg(LOG_ERROR, "import: cannot read or stage the document: %s", strerror(errno));
		return ERR_UNAVAILABLE;
	case JSTREAM_E_NOMEM:
		return ERR_INTERNAL;
	default:
		return bad(x, ERR_INVALID_JSON, NULL, "The document is not valid JSON (%s at byte %llu); nothing was imported.",
		    jstream_message(x->js), off);
	}
}

/* The next token; a parser error becomes the answer. */
static enum err next(struct imp *x, enum jstream_tok *t)
{
	*t = jstream_next(x->js);
	return *t == JSTREAM_ERROR ? lexfail(x) : ERR_OK;
}

/* A member name fit to be quoted back (we print only our own characters). */
static const char *shown(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 40)
		return "(unprintable)";
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
		    k[i] == '_' || k[i] == '-'))
			return "(unprintable)";
	return k;
}

/*
 * The index of member name k in names[0..n), marking it in *seen; an
 * unknown or repeated member is a 400 naming path.
 */
static enum err member(struct imp *x, const char *path, const char *const *names, int n, unsigned *seen, int *idx)
{
	const char *k = jstream_str(x->js, NULL);
	for (int i = 0; i < n; i++) {
		if (strcmp(k, names[i]) != 0)
			continue;
		if (*seen & (1u << i))
			return bad(x, ERR_INVALID_REQUEST, path, "the member '%s' appears twice.", names[i]);
		*seen |= 1u << i;
		*idx = i;
		return ERR_OK;
	}
	return bad(x, ERR_INVALID_REQUEST, path, "unknown member '%s'.", shown(k));
}

/* An integer member value in min..max. */
static enum err get_int(struct imp *x, const char *path, const char *name, int64_t min, int64_t max, int64_t *out)
{
	enum jstream_tok t;
	enum err e = next(x, &t);
	if (e)
		return e;
	if (t != JSTREAM_NUMBER || jstream_int(x->js, min, max, out) != 0)
		return bad(x, ERR_INVALID_REQUEST, path, "%s: expected an integer from %" PRId64 " to %" PRId64 ".", name,
		    min, max);
	return ERR_OK;
}

/* A boolean member value. */
static enum err get_bool(struct imp *x, const char *path, const char *name, int *out)
{
	enum jstream_tok t;
	enum err e = next(x, &t);
	if (e)
		return e;
	if (t != JSTREAM_TRUE && t != JSTREAM_FALSE)
		return bad(x, ERR_INVALID_REQUEST, path, "%s: expected true or false.", name);
	*out = t == JSTREAM_TRUE;
	return ERR_OK;
}

/* A string member value of 0..outlen-1 bytes copied into out; null allowed when *isnull is given. */
static enum err get_str(struct imp *x, const char *path, const char *name, char *out, size_t outlen, int *isnull)
{
	enum jstream_tok t;
	enum err e = next(x, &t);
	if (e)
		return e;
	if (t == JSTREAM_NULL && isnull) {
		*isnull = 1;
		out[0] = '\0';
		return ERR_OK;
	}
	size_t n;
	const char *s = jstream_str(x->js, &n);
	if (t != JSTREAM_STRING || n >= outlen)
		return bad(x, ERR_INVALID_REQUEST, path, "%s: expected a string of at most %zu bytes%s.", name, outlen - 1,
		    isnull ? " or null" : "");
	memcpy(out, s, n + 1);
	if (isnull)
		*isnull = 0;
	return ERR_OK;
}

/* "2026-11-22T10:04:05Z" (optionally with a fraction of a second, dropped) as unix seconds. */
static int parse_time(const char *s, int64_t *out)
{
	int Y, M, D, h, m, sec, n = 0;
	size_t len = strlen(s);
	if (len < 20 || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19)
		return -1;
	for (int i = 0; i < 19; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : i == 10 ? s[i] != 'T' : (i == 13 || i == 16) ? s[i] != ':' :
		    (s[i] < '0' || s[i] > '9'))
			return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 59)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != D || back.tm_mon != M - 1)
		return -1; /* 31 April, 29 February of a common year */
	*out = (int64_t)t;
	return 0;
}

/* A time member value (RFC 3339 UTC, as exported). */
static enum err get_time(struct imp *x, const char *path, const char *name, int64_t *out)
{
	char s[64];
	enum err e = get_str(x, path, name, s, sizeof s, NULL);
	if (e)
		return e;
	if (parse_time(s, out) != 0)
		return bad(x, ERR_INVALID_REQUEST, path, "%s: expected an RFC 3339 UTC time such as 2026-11-22T10:04:05Z.",
		    name);
	return ERR_OK;
}

/*
 * A base64 member value, or null when *isnull is given, decoded through d
 * (reset to at most max bytes). Over max: over_err with a sentence naming
 * the limit.
 */
static enum err get_b64(struct imp *x, const char *path, const char *name, struct b64dec *d, int64_t max,
    enum err over_err, int *isnull)
{
	dec_reset(d, max);
	enum jstream_tok t = jstream_next_stream(x->js, dec_sink, d);
	if (t == JSTREAM_ERROR && jstream_errcode(x->js) != JSTREAM_E_SINK)
		return lexfail(x);
	if (t == JSTREAM_NULL && isnull) {
		*isnull = 1;
		return ERR_OK;
	}
	if (t == JSTREAM_STRING && bsc_b64_dec_final(&d->st, NULL, 0) < 0)
		d->bad = 1; /* the text did not end on a whole quantum */
	if (d->ioerr)
		return d->fd >= 0 ? ERR_UNAVAILABLE : ERR_INTERNAL; /* a full disk, or out of memory */
	if (d->over) {
		if (over_err == ERR_RECORD_TOO_LARGE)
			return bad(x, over_err, path, "%s: more than the %" PRId64 " bytes a record may have.", name, max);
		return bad(x, over_err, path, "%s: more than the %" PRId64 " bytes allowed.", name, max);
	}
	if (t != JSTREAM_STRING || d->bad)
		return bad(x, ERR_INVALID_REQUEST, path, "%s: expected standard padded base64%s.", name,
		    isnull ? " or null" : "");
	if (isnull)
		*isnull = 0;
	return ERR_OK;
}

/* A collection's or a backup's "name" member: a string that valid_name() accepts. */
static enum err get_name(struct imp *x, const char *path, char *out, size_t outlen)
{
	enum err e = get_str(x, path, "name", out, outlen, NULL);
	if (e)
		return e;
	if (!valid_name(out))
		return bad(x, ERR_INVALID_REQUEST, path, "name: 1-64 of A-Z a-z 0-9 _ - . ~, not starting with . or ~.");
	return ERR_OK;
}

/* Expect the start of an array or an object. */
static enum err expect(struct imp *x, enum jstream_tok want, const char *path, const char *name)
{
	enum jstream_tok t;
	enum err e = next(x, &t);
	if (e)
		return e;
	if (t != want)
		return bad(x, ERR_INVALID_REQUEST, path, "%s: expected %s.", name,
		    want == JSTREAM_ARR_BEGIN ? "an array" : "an object");
	return ERR_OK;
}

/*
 * Reads element i of an array: an object whose '{' was just read, named
 * path ("collections[2].records[5]"); ctx is the caller's.
 */
typedef enum err (*element_fn)(struct imp *x, void *ctx, int64_t i, const char *path);

/*
 * The value of the member name of the object at path ("" for the
 * document): an array whose elements are objects, each read by fn under
 * the path "PATH.NAME[i]" ("NAME[i]" at the top). The first error is the
 * answer.
 */
static enum err each_element(struct imp *x, const char *path, const char *name, element_fn fn, void *ctx)
{
	/* the longest, "collections[N].records[N].history[N]" with 19-digit N, takes 90 bytes */
	char epath[160];
	enum jstream_tok t;
	enum err e;
	if ((e = expect(x, JSTREAM_ARR_BEGIN, path, name)))
		return e;
	for (int64_t i = 0;; i++) {
		if ((e = next(x, &t)))
			return e;
		if (t == JSTREAM_ARR_END)
			return ERR_OK;
		if (*path)
			snprintf(epath, sizeof epath, "%s.%s[%" PRId64 "]", path, name, i);
		else
			snprintf(epath, sizeof epath, "%s[%" PRId64 "]", name, i);
		if (t != JSTREAM_OBJ_BEGIN)
			return bad(x, ERR_INVALID_REQUEST, epath, "expected an object.");
		if ((e = fn(x, ctx, i, epath)))
			return e;
	}
}

/* The number of entries of a names[] table, and the table: member()'s and each_member()'s arguments. */
#define NAMES(a) (a), (int)(sizeof (a) / sizeof (a)[0])

/* Reads the value of member names[idx] of the object at path, whose name was just read; ctx is the caller's. */
typedef enum err (*member_fn)(struct imp *x, void *ctx, int idx, const char *path);

/*
 * The members of the object at path whose '{' was just read, up to its '}':
 * each one of names[0..n) and at most once (marked in *seen, as member()
 * does), its value read by fn. The first error is the answer.
 */
static enum err each_member(struct imp *x, const char *path, const char *const *names, int n, unsigned *seen,
    member_fn fn, void *ctx)
{
	enum jstream_tok t;
	enum err e;
	int idx = 0;
	assert(n > 0 && (size_t)n <= sizeof *seen * CHAR_BIT);
	for (;;) {
		if ((e = next(x, &t)))
			return e;
		if (t == JSTREAM_OBJ_END)
			return ERR_OK;
		if ((e = member(x, path, names, n, seen, &idx)) || (e = fn(x, ctx, idx, path)))
			return e;
	}
}

/* The account's byte quota after what the document added so far. */
static enum err quota_check(struct imp *x)
{
	if (x->bytes > 0 && x->acc.usage_bytes + x->bytes > x->quota)
		return bad(x, ERR_QUOTA_EXCEEDED, NULL,
		    "The import needs more than the account's byte quota (%" PRId64 " bytes); nothing was imported.",
		    x->quota);
	return ERR_OK;
}

/*
 * Note an older version of the record: keep the newest x->keep by version,
 * in a min-heap on version (top[0] is the oldest kept), so that a record
 * with a long history costs O(log keep) per version.
 */
static void top_add(struct imp *x, int64_t version, int64_t bytes)
{
	size_t i;
	if (x->keep <= 0)
		return;
	if ((int64_t)x->ntop < x->keep) {
		/* sift up */
		for (i = x->ntop++; i > 0 && x->top[(i - 1) / 2].version > version; i = (i - 1) / 2)
			x->top[i] = x->top[(i - 1) / 2];
	} else {
		if (version <= x->top[0].version)
			return;
		/* replace the oldest and sift down */
		for (i = 0;;) {
			size_t c = 2 * i + 1;
			if (c >= x->ntop)
				break;
			if (c + 1 < x->ntop && x->top[c + 1].version < x->top[c].version)
				c++;
			if (x->top[c].version >= version)
				break;
			x->top[i] = x->top[c];
			i = c;
		}
	}
	x->top[i].version = version;
	x->top[i].bytes = bytes;
}

/* A collection being read. */
struct col {
	char name[STORE_NAME_MAX + 1];
	int have_name, created;
	int meta_null;         /* meta is null or missing */
	struct store_collection c;
	int64_t version;       /* as exported */
	int64_t purged;
	int64_t max_version;   /* the highest record or history version seen */
	int64_t records, bytes;
};

/* Create the collection in the store (pass 2), once its name is known. */
static enum err col_create(struct imp *x, struct col *cl, const char *path)
{
	if (cl->created)
		return ERR_OK;
	cl->created = 1;
	if (x->dry)
		return ERR_OK;
	enum err e = store_collection_create(x->s, x->acc.id, cl->name, NULL, 0, x->now, &cl->c);
	if (e == ERR_CONFLICT)
		return bad(x, ERR_INVALID_REQUEST, path, "name: the collection '%s' appears twice.", cl->name);
	return e;
}

/*
 * A version being read: a record's current one or one of its older ones.
 * Both objects begin their names[] with VERSION_NAMES, read by
 * ver_member() and checked by ver_check(); the payload is decoded by d.
 */
#define VERSION_NAMES "version", "modified_at", "deleted", "payload"
enum { VERSION_NNAMES = 4 };
struct ver {
	struct store_record v;
	int isnull;            /* the payload is null or missing */
	struct b64dec *d;
};

/* Start a version of the record rid (may be NULL until its id is read) with the decoder d. */
static void ver_init(struct imp *x, struct ver *vr, const char *rid, struct b64dec *d)
{
	memset(vr, 0, sizeof *vr);
	vr->v.rid = rid;
	vr->v.modified_at = x->now;
	vr->isnull = 1;
	vr->d = d;
}

/* The value of member VERSION_NAMES[idx] of the struct ver ctx (member_fn). */
static enum err ver_member(struct imp *x, void *ctx, int idx, const char *path)
{
	struct ver *vr = ctx;
	switch (idx) {
	case 0: return get_int(x, path, "version", 1, INT64_MAX - 1, &vr->v.version);
	case 1: return get_time(x, path, "modified_at", &vr->v.modified_at);
	case 2: return get_bool(x, path, "deleted", &vr->v.deleted);
	default:
		return get_b64(x, path, "payload", vr->d, x->c->limits.max_record_bytes, ERR_RECORD_TOO_LARGE, &vr->isnull);
	}
}

/*
 * After the object's '}': "version" given (seen, bit 0), a payload unless
 * deleted, none if deleted (`what`, "record" or "version", names the object
 * in that message). Points vr->v.payload at the decoded payload.
 */
static enum err ver_check(struct imp *x, struct ver *vr, unsigned seen, const char *what, const char *path)
{
	if (!(seen & 1))
		return bad(x, ERR_INVALID_REQUEST, path, "version: required member missing.");
	if (vr->v.deleted && !vr->isnull)
		return bad(x, ERR_INVALID_REQUEST, path, "payload: a deleted %s has no payload (null).", what);
	if (!vr->v.deleted && vr->isnull)
		return bad(x, ERR_INVALID_REQUEST, path, "payload: required unless deleted is true.");
	if (!vr->v.deleted) {
		vr->v.payload = vr->d->mem ? vr->d->mem : (const uint8_t *)"";
		vr->v.payload_len = (size_t)vr->d->size;
	}
	return ERR_OK;
}

/* A record being read: its collection, its current version, its id, and what its history holds. */
struct rec {
	struct col *cl;
	struct ver cur;
	char rid[STORE_RID_MAX + 1];
	int64_t max_hist;      /* the highest version in the history */
	int64_t nhist;         /* versions in the history */
};

/* One older version of the record ctx: {"version","modified_at","deleted","payload"} (element_fn). */
static enum err history_entry(struct imp *x, void *ctx, int64_t i, const char *path)
{
	static const char *const names[] = {VERSION_NAMES};
	_Static_assert(sizeof names / sizeof names[0] == VERSION_NNAMES, "a history entry has only the shared members");
	struct rec *rc = ctx;
	unsigned seen = 0;
	struct ver h;
	const struct store_record *v = &h.v;
	enum err e;
	rc->nhist++;
	ver_init(x, &h, rc->rid, &x->hpay);
	if ((e = each_member(x, path, NAMES(names), &seen, ver_member, &h)) ||
	    (e = ver_check(x, &h, seen, "version", path)))
		return e;
	if (v->version > rc->max_hist)
		rc->max_hist = v->version;
	top_add(x, v->version, v->deleted ? 0 : (int64_t)v->payload_len);
	if (!x->dry) {
		e = store_transfer_history_insert(x->s, rc->cl->c.id, v);
		if (e == ERR_CONFLICT)
			return bad(x, ERR_INVALID_REQUEST, path, "version: %" PRId64 " appears twice in the record's history.",
			    v->version);
		if (e)
			return e;
	}
	return ERR_OK;
}

/* The value of member names[idx] of a record (member_fn). */
static enum err record_member(struct imp *x, void *ctx, int idx, const char *path)
{
	struct rec *rc = ctx;
	enum err e;
	if (idx < VERSION_NNAMES)
		return ver_member(x, &rc->cur, idx, path);
	if (idx == VERSION_NNAMES) {
		if ((e = get_str(x, path, "id", rc->rid, sizeof rc->rid, NULL)))
			return e;
		if (!valid_rid(rc->rid))
			return bad(x, ERR_INVALID_REQUEST, path, "id: 1-128 of A-Z a-z 0-9 _ - . ~, not starting with . or ~.");
		rc->cur.v.rid = rc->rid;
		return ERR_OK;
	}
	if (!rc->cur.v.rid)
		return bad(x, ERR_INVALID_REQUEST, path, "the member 'id' must come before 'history'.");
	return each_element(x, path, "history", history_entry, rc);
}

/* One record of the collection ctx: {"id","version","modified_at","deleted","payload","history"} (element_fn). */
static enum err record(struct imp *x, void *ctx, int64_t i, const char *path)
{
	/* the order of the table is not the document's: the shared members come first */
	static const char *const names[] = {VERSION_NAMES, "id", "history"};
	_Static_assert(sizeof names / sizeof names[0] == VERSION_NNAMES + 2, "record_member() reads two more");
	struct col *cl = ctx;
	unsigned seen = 0;
	struct rec rc;
	const struct store_record *rec = &rc.cur.v;
	enum err e;
	memset(&rc, 0, sizeof rc);
	rc.cl = cl;
	ver_init(x, &rc.cur, NULL, &x->pay);
	x->ntop = 0;
	if ((e = each_member(x, path, NAMES(names), &seen, record_member, &rc)))
		return e;
	if (!rec->rid)
		return bad(x, ERR_INVALID_REQUEST, path, "id: required member missing.");
	if ((e = ver_check(x, &rc.cur, seen, "record", path)))
		return e;
	if (rc.max_hist >= rec->version)
		return bad(x, ERR_INVALID_REQUEST, path, "history: version %" PRId64 " is not older than the record's %" PRId64 ".",
		    rc.max_hist, rec->version);
	/* the counters: the current payload and the older versions that stay */
	int64_t bytes = rec->deleted ? 0 : (int64_t)rec->payload_len;
	for (size_t j = 0; j < x->ntop; j++)
		bytes += x->top[j].bytes;
	if (rc.nhist > (int64_t)x->ntop)
		x->dropped += rc.nhist - (int64_t)x->ntop;
	if (!x->dry) {
		e = store_transfer_record_insert(x->s, cl->c.id, rec);
		if (e == ERR_CONFLICT)
			return bad(x, ERR_INVALID_REQUEST, path,
			    "the id '%s' or the version %" PRId64 " is already used in this collection.", rc.rid, rec->version);
		if (e)
			return e;
		int64_t freed;
		if (rc.nhist > x->keep && (e = store_history_prune(x->s, cl->c.id, rc.rid, x->keep, &freed)))
			return e;
	}
	if (rec->version > cl->max_version)
		cl->max_version = rec->version;
	cl->bytes += bytes;
	cl->records += rec->deleted ? 0 : 1;
	x->bytes += bytes;
	x->records += rec->deleted ? 0 : 1;
	return quota_check(x);
}

/* The value of member names[idx] of a collection (member_fn). */
static enum err collection_member(struct imp *x, void *ctx, int idx, const char *path)
{
	struct col *cl = ctx;
	enum err e;
	switch (idx) {
	case 0:
		if ((e = get_name(x, path, cl->name, sizeof cl->name)))
			return e;
		cl->have_name = 1;
		return ERR_OK;
	case 1: return get_b64(x, path, "meta", &x->small, TRANSFER_META_MAX, ERR_INVALID_REQUEST, &cl->meta_null);
	case 2: return get_int(x, path, "version", 0, INT64_MAX - 1, &cl->version);
	case 3: return get_int(x, path, "purged_version", 0, INT64_MAX - 1, &cl->purged);
	default:
		if (!cl->have_name)
			return bad(x, ERR_INVALID_REQUEST, path, "the member 'name' must come before 'records'.");
		if ((e = col_create(x, cl, path)))
			return e;
		return each_element(x, path, "records", record, cl);
	}
}

/* One collection: {"name","meta","version","purged_version","records"} (element_fn). */
static enum err collection(struct imp *x, void *ctx, int64_t i, const char *path)
{
	static const char *const names[] = {"name", "meta", "version", "purged_version", "records"};
	unsigned seen = 0;
	struct col cl;
	enum err e;
	if (++x->ncollections > x->plan->collections)
		return bad(x, ERR_COLLECTION_LIMIT, NULL,
		    "The document has more collections than the %" PRId64 " the account's plan allows.",
		    x->plan->collections);
	memset(&cl, 0, sizeof cl);
	cl.meta_null = 1;
	if ((e = each_member(x, path, NAMES(names), &seen, collection_member, &cl)))
		return e;
	if (!cl.have_name)
		return bad(x, ERR_INVALID_REQUEST, path, "name: required member missing.");
	if ((e = col_create(x, &cl, path)))
		return e;
	/* the version stays above every version in use, so pushes continue from it */
	int64_t version = cl.version > cl.max_version ? cl.version : cl.max_version;
	if (cl.purged > version)
		cl.purged = version;
	if (x->dry)
		return ERR_OK;
	if (!cl.meta_null && (e = store_collection_set_meta(x->s, cl.c.id, x->small.mem ? x->small.mem : (const uint8_t *)"",
	    (size_t)x->small.size, x->now)))
		return e;
	return store_transfer_collection_set(x->s, cl.c.id, version, cl.records, cl.bytes, cl.purged, x->now);
}

/* A jstream sink that keeps nothing. */
static int ignore(void *ctx, const void *data, size_t n)
{
	(void)ctx;
	(void)data;
	(void)n;
	return 0;
}

/* A backup being read. */
struct bk {
	size_t k;              /* its place in the document and in x->blobs */
	char name[STORE_NAME_MAX + 1];
	char sha_hex[65];      /* "" when not given */
	int64_t version, modified_at;
};

/* The data of backup k: decoded into a temporary file (pass 1), or read over (pass 2). */
static enum err backup_data(struct imp *x, size_t k, const char *path)
{
	if (!x->dry) {
		/* pass 1 decoded it from this same file: read over it */
		enum jstream_tok t = jstream_next_stream(x->js, ignore, NULL);
		if (t == JSTREAM_ERROR)
			return lexfail(x);
		if (t != JSTREAM_STRING || k >= x->nblobs)
			return bad(x, ERR_INVALID_REQUEST, path, "data: expected standard padded base64.");
		return ERR_OK;
	}
	if (k >= (size_t)x->plan->backups || !x->blobs)
		return ERR_INTERNAL; /* counted before: cannot happen */
	int fd;
	enum err te = blobs_tmpfile(x->dir, "import", &fd);
	if (te)
		return te;
	struct blob *b = &x->blobs[x->nblobs++];
	b->fd = fd;
	x->file.fd = fd;
	bsc_sha256_free(x->file.sha);
	if (!(x->file.sha = bsc_sha256_new()))
		return ERR_INTERNAL;
	enum err e = get_b64(x, path, "data", &x->file, x->backup_max, ERR_BODY_TOO_LARGE, NULL);
	if (e)
		return e;
	b->size = x->file.size;
	int rc = bsc_sha256_final(x->file.sha, b->sha);
	x->file.sha = NULL;
	return rc != 0 ? ERR_INTERNAL : ERR_OK;
}

/* The value of member names[idx] of a backup (member_fn). */
static enum err backup_member(struct imp *x, void *ctx, int idx, const char *path)
{
	struct bk *bk = ctx;
	enum err e;
	switch (idx) {
	case 0: return get_name(x, path, bk->name, sizeof bk->name);
	case 1: return get_int(x, path, "version", 1, INT64_MAX - 1, &bk->version);
	case 2: return get_time(x, path, "modified_at", &bk->modified_at);
	case 3:
		if ((e = get_str(x, path, "sha256", bk->sha_hex, sizeof bk->sha_hex, NULL)))
			return e;
		if (strlen(bk->sha_hex) != 64 || strspn(bk->sha_hex, "0123456789abcdef") != 64)
			return bad(x, ERR_INVALID_REQUEST, path, "sha256: expected 64 lowercase hex characters.");
		return ERR_OK;
	default:
		return backup_data(x, bk->k, path);
	}
}

/* Backup number i: {"name","version","modified_at","sha256","data"} (element_fn). */
static enum err backup(struct imp *x, void *ctx, int64_t i, const char *path)
{
	static const char *const names[] = {"name", "version", "modified_at", "sha256", "data"};
	unsigned seen = 0;
	struct bk bk;
	enum err e;
	if (++x->nbackups > x->plan->backups)
		return bad(x, ERR_BACKUP_LIMIT, NULL,
		    "The document has more backups than the %" PRId64 " the account's plan allows.", x->plan->backups);
	if (x->dry && !x->blobs && !(x->blobs = calloc((size_t)x->plan->backups, sizeof *x->blobs)))
		return ERR_INTERNAL;
	memset(&bk, 0, sizeof bk);
	bk.k = (size_t)i;
	bk.version = 1;
	bk.modified_at = x->now;
	if ((e = each_member(x, path, NAMES(names), &seen, backup_member, &bk)))
		return e;
	if (!(seen & 1))
		return bad(x, ERR_INVALID_REQUEST, path, "name: required member missing.");
	if (!(seen & 16) || bk.k >= x->nblobs)
		return bad(x, ERR_INVALID_REQUEST, path, "data: required member missing.");
	struct blob *b = &x->blobs[bk.k];
	/* the limits of this pass's plan (pass 2 may see another one) */
	if (b->size > x->backup_max)
		return bad(x, ERR_BODY_TOO_LARGE, path, "data: more than the %" PRId64 " bytes allowed.", x->backup_max);
	if (b->size < x->plan->min_backup_bytes)
		return bad(x, ERR_TOO_SMALL, path, "data: %" PRId64 " bytes; a backup needs at least %" PRId64 ".", b->size,
		    x->plan->min_backup_bytes);
	if (bk.sha_hex[0]) {
		char hex[65];
		bsc_hex(b->sha, sizeof b->sha, hex, sizeof hex);
		if (strcmp(hex, bk.sha_hex) != 0)
			return bad(x, ERR_INVALID_REQUEST, path, "sha256: does not match the data (the document is damaged).");
	}
	x->bytes += b->size;
	if ((e = quota_check(x)) || x->dry)
		return e;
	struct store_backup sb;
	memset(&sb, 0, sizeof sb);
	snprintf(sb.name, sizeof sb.name, "%s", bk.name);
	sb.version = bk.version;
	sb.modified_at = bk.modified_at;
	e = store_transfer_backup_insert(x->s, x->acc.id, &sb, b->fd, b->size, b->sha, x->now);
	if (e == ERR_CONFLICT)
		return bad(x, ERR_INVALID_REQUEST, path, "name: the backup '%s' appears twice.", bk.name);
	return e;
}

/* The value of member names[idx] of the document (member_fn); ctx is the members seen so far. */
static enum err document_member(struct imp *x, void *ctx, int idx, const char *path)
{
	const unsigned *seen = ctx;
	char s[64];
	int isnull;
	enum jstream_tok t;
	enum err e;
	if (idx != 0 && !(*seen & 1))
		return bad(x, ERR_INVALID_REQUEST, NULL,
		    "format: the document must start with \"format\": \"" TRANSFER_FORMAT "\".");
	switch (idx) {
	case 0:
		if ((e = get_str(x, path, "format", s, sizeof s, NULL)))
			return e;
		if (strcmp(s, TRANSFER_FORMAT) != 0)
			return bad(x, ERR_INVALID_REQUEST, NULL, "format: expected \"" TRANSFER_FORMAT "\".");
		return ERR_OK;
	case 1: {
		/* the exporting account's name: informative only */
		char u[STORE_USERNAME_MAX * 4 + 1];
		return get_str(x, path, "username", u, sizeof u, &isnull);
	}
	case 2:
		/* the exporting account's kdf: never applied (see transfer.h), only checked as JSON */
		if ((e = next(x, &t)))
			return e;
		if (t != JSTREAM_OBJ_BEGIN)
			return bad(x, ERR_INVALID_REQUEST, NULL, "kdf: expected an object.");
		if (jstream_skip(x->js, t) != 0)
			return lexfail(x);
		return ERR_OK;
	case 3:
		e = get_b64(x, path, "keyring", &x->small, ACCOUNTS_KEYRING_MAX, ERR_INVALID_REQUEST, &isnull);
		if (e == ERR_OK && !isnull && !x->dry) {
			free(x->keyring);
			x->keyring = NULL;
			x->keyring_len = (size_t)x->small.size;
			if (!(x->keyring = malloc(x->keyring_len ? x->keyring_len : 1)))
				return ERR_INTERNAL;
			if (x->keyring_len)
				memcpy(x->keyring, x->small.mem, x->keyring_len);
			x->has_keyring = 1;
		}
		return e;
	case 4: return each_element(x, path, "collections", collection, NULL);
	case 5: return each_element(x, path, "backups", backup, NULL);
	default: {
		/* the exported keyring's version (a compatible addition): checked, informative only */
		int64_t kv;
		return get_int(x, path, "keyring_version", 0, INT64_MAX, &kv);
	}
	}
}

/* The whole document: {"format" first, then "username","kdf","keyring","keyring_version","collections","backups"}. */
static enum err document(struct imp *x)
{
	static const char *const names[] = {"format", "username", "kdf", "keyring", "collections", "backups",
	    "keyring_version"};
	unsigned seen = 0;
	enum jstream_tok t;
	enum err e;
	if ((e = next(x, &t)))
		return e;
	if (t != JSTREAM_OBJ_BEGIN)
		return bad(x, ERR_INVALID_REQUEST, NULL, "The document must be a JSON object (a blindsync export).");
	if ((e = each_member(x, "", NAMES(names), &seen, document_member, &seen)))
		return e;
	if (!(seen & 1))
		return bad(x, ERR_INVALID_REQUEST, NULL, "format: required member missing.");
	if ((e = next(x, &t)))
		return e;
	return t == JSTREAM_END ? ERR_OK : ERR_INTERNAL;
}

/* Read the account, its plan and limits; ERR_CONFLICT unless it has no collections and no backups. */
static enum err load_account(struct imp *x, struct store *s)
{
	int64_t nc = 0, nb = 0;
	enum err e = store_account_by_id(s, x->auth->account_id, &x->acc);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	x->plan = sync_plan(x->c, &x->acc);
	x->quota = sync_quota(x->c, &x->acc);
	x->keep = x->plan->history_depth;
	x->backup_max = x->plan->backup_bytes < TRANSFER_BLOB_MAX ? x->plan->backup_bytes : TRANSFER_BLOB_MAX;
	if ((e = store_collection_count(s, x->acc.id, &nc)) || (e = store_backup_count(s, x->acc.id, &nb)))
		return e;
	if (nc || nb)
		return bad(x, ERR_CONFLICT, NULL,
		    "The account already has %" PRId64 " collection(s) and %" PRId64 " backup(s); "
		    "an import needs an account with none. Nothing was imported.", nc, nb);
	return ERR_OK;
}

/* One pass over the staged document. */
static enum err run_pass(struct imp *x)
{
	struct jstream_opts o = {64 * 1024, TRANSFER_MAX_STRING, TRANSFER_MAX_DEPTH};
	x->bytes = x->records = x->ncollections = x->nbackups = x->dropped = 0;
	if (!x->tee && lseek(x->fd, 0, SEEK_SET) != 0) {
		log_msg(LOG_ERROR, "import: cannot rewind the staged document: %s", strerror(errno));
		return ERR_UNAVAILABLE;
	}
	free(x->top);
	x->top = NULL;
	if (x->keep > 0 && !(x->top = calloc((size_t)x->keep, sizeof *x->top)))
		return ERR_INTERNAL;
	x->js = x->tee ? jstream_new_read(tee_read, x->tee, &o) : jstream_new_fd(x->fd, &o);
	if (!x->js)
		return ERR_INTERNAL;
	enum err e = document(x);
	jstream_free(x->js);
	x->js = NULL;
	return e;
}

/* Pass 2: everything again, writing, in one transaction. */
static enum err import_tx(struct store *s, void *arg)
{
	struct imp *x = arg;
	int64_t nv;
	x->s = s;
	x->dry = 0;
	enum err e = load_account(x, s);
	if (e || (e = run_pass(x)) || (e = quota_check(x)))
		return e;
	/* the keyring only into an account that has none: a keyring the owner set here wins */
	if (x->has_keyring && x->acc.keyring_version == 0) {
		if ((e = store_account_set_keyring(s, x->acc.id, x->keyring, x->keyring_len, 0, &nv)) ||
		    (e = store_event_add(s, x->acc.id, "keyring_changed", x->auth->device_public_id, x->now)))
			return e;
	}
	return store_account_usage_add(s, x->acc.id, x->bytes, x->records);
}

/* Tell long-polls on the account's (new) collections (store_collection_list callback). */
static int notify_collection(void *ctx, const struct store_collection *c)
{
	const struct imp *x = ctx;
	x->in->changed(x->acc.id, c->name);
	return 0;
}

enum err transfer_import_read(struct store *s, const struct config *c, const struct transfer_import_in *in,
    char *msg, size_t msglen)
{
	struct imp x;
	enum err e;
	memset(&x, 0, sizeof x);
	if (msglen)
		msg[0] = '\0';
	x.in = in;
	x.msg = msg;
	x.msglen = msglen;
	x.c = c;
	x.auth = in->auth;
	x.fd = -1;
	x.now = (int64_t)time(NULL);
	x.pay.fd = x.hpay.fd = x.small.fd = x.file.fd = -1;
	/* a cheap refusal before the body is read */
	if ((e = load_account(&x, s)))
		return e;
	blobs_dir(c->database, x.dir, sizeof x.dir);
	if (!(x.file.scratch = malloc(B64_SLICE / 4 * 3)))
		return ERR_INTERNAL;
	/* pass 1 as the body arrives: no lock, nothing written but the staged
	 * copy; the first error ends the upload, unread */
	if ((e = blobs_tmpfile(x.dir, "import", &x.fd)))
		goto out;
	struct tee tee = {&in->body, x.fd, in->len, 0, 0};
	x.tee = &tee;
	x.s = s;
	x.dry = 1;
	int64_t t0 = core_now_ms();
	e = run_pass(&x);
	x.tee = NULL;
	if (tee.cut || (e == ERR_OK && tee.have != in->len))
		e = bad(&x, ERR_INVALID_REQUEST, NULL,
		    "The body ended after %" PRId64 " of %" PRId64 " bytes; nothing was imported.", tee.have, in->len);
	if (e)
		goto out;
	/* pass 2: the same checks against the account as it is now, and the writes */
	int64_t t1 = core_now_ms();
	if ((e = store_tx(s, import_tx, &x)))
		goto out;
	int64_t t2 = core_now_ms();
	log_msg(LOG_INFO, "import: account %" PRId64 ": %" PRId64 " collection(s), %" PRId64 " record(s), %" PRId64
	    " backup(s), %" PRId64 " bytes; %" PRId64 " older version(s) beyond history_depth dropped; "
	    "checked in %" PRId64 " ms, written in %" PRId64 " ms (holding the write lock)",
	    x.acc.id, x.ncollections, x.records, x.nbackups, x.bytes, x.dropped, t1 - t0, t2 - t1);
	if (in->changed) {
		in->changed(x.acc.id, NULL);
		store_collection_list(s, x.acc.id, notify_collection, &x);
	}
out:
	if (x.fd >= 0)
		close(x.fd);
	for (size_t i = 0; i < x.nblobs; i++)
		close(x.blobs[i].fd);
	free(x.blobs);
	if (x.keyring)
		bsc_wipe(x.keyring, x.keyring_len);
	free(x.keyring);
	free(x.pay.mem);
	free(x.hpay.mem);
	free(x.small.mem);
	free(x.file.mem);
	free(x.file.scratch);
	bsc_sha256_free(x.file.sha);
	free(x.top);
	return e;
}
