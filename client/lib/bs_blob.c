/*
 * bs_blob.c: backups and anonymous slots as bs1 streams (client.md
 * sections 5 and 6) over HTTP. Uploads are sealed while libcurl reads
 * them and downloads opened while libcurl writes them, 64 KiB at a time,
 * so memory stays bounded whatever the size. A download goes to a
 * temporary file renamed into place only after the stream's end verified;
 * to standard output, what was written before a failure must be discarded
 * by the reader (the status says so). Overwrites carry If-Match with the
 * version this home last saw, kept in the state. The account's export is
 * streamed to a file the same way, as the ciphertext it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "bs_impl.h"

/* ---- upload: plaintext fd -> stream -> libcurl -------------------------- */

struct up {
	int fd;
	enum bs1_kind kind;
	const struct bs1_key *key;
	struct bs1_stream *w;
	uint64_t plain, left;          /* plaintext size and what is left to read */
	uint8_t *buf;                  /* sealed bytes waiting for libcurl */
	size_t n, pos, cap;
	int done, failed;
	bs_progress_fn progress;
	void *parg;
	uint64_t sent, total;
};

static int
up_sink(void *arg, const uint8_t *p, size_t n)
{
	struct up *u = arg;

	if (u->n + n > u->cap)
		return -1;
	memcpy(u->buf + u->n, p, n);
	u->n += n;
	return 0;
}

static size_t
up_read(char *dst, size_t sz, size_t nm, void *arg)
{
	struct up *u = arg;
	size_t want = sz * nm, k;
	uint8_t piece[BS1_PIECE];

	while (u->pos == u->n && !u->done) {
		ssize_t got;
		size_t ask = u->left < sizeof piece ? (size_t)u->left : sizeof piece;
		u->pos = u->n = 0;
		if (ask == 0) {
			if (bs1_stream_write_end(u->w, up_sink, u) != BS1_OK)
				goto fail;
			u->done = 1;
			break;
		}
		do
			got = read(u->fd, piece, ask);
		while (got < 0 && errno == EINTR);
		if (got <= 0)        /* the file shrank or failed: the length would lie */
			goto fail;
		u->left -= (uint64_t)got;
		if (bs1_stream_write(u->w, piece, (size_t)got, up_sink, u) != BS1_OK)
			goto fail;
	}
	bs1_wipe(piece, sizeof piece);
	k = u->n - u->pos < want ? u->n - u->pos : want;
	memcpy(dst, u->buf + u->pos, k);
	u->pos += k;
	u->sent += k;
	if (u->progress)
		u->progress(u->parg, u->sent, u->total);
	return k;
fail:
	bs1_wipe(piece, sizeof piece);
	u->failed = 1;
	return CURL_READFUNC_ABORT;
}

/* Restart an upload from the start of the file with a fresh stream. */
static int
up_rewind(void *arg)
{
	struct up *u = arg;

	bs1_stream_free(u->w);
	u->w = NULL;
	if (lseek(u->fd, 0, SEEK_SET) != 0 ||
	    bs1_stream_writer_new(u->kind, u->key, &u->w) != BS1_OK)
		return -1;
	u->left = u->plain;
	u->n = u->pos = 0;
	u->done = u->failed = 0;
	u->sent = 0;
	return 0;
}

/* The version an upload answered: its JSON's version, else its ETag. */
static int64_t
answered_version(const struct bs_resp *r, const struct bs_xfer *x)
{
	struct json_object *v;

	if (r->json && json_object_object_get_ex(r->json, "version", &v))
		return json_object_get_int64(v);
	return x->etag[0] ? strtoll(x->etag, NULL, 10) : 0;
}

/* The version of key remembered in the state (0: none). */
static int64_t
seen_version(struct bs_client *c, const char *key)
{
	void *v = NULL;
	size_t n = 0;
	int64_t ver = 0;

	if (bs__get_setting(c, key, &v, &n) == BS_OK && v)
		ver = strtoll(v, NULL, 10);
	free(v);
	return ver;
}

static int
remember_version(struct bs_client *c, const char *key, int64_t ver)
{
	char buf[32];
	int rc;

	snprintf(buf, sizeof buf, "%lld", (long long)ver);
	if ((rc = bs__begin(c)))
		return rc;
	if ((rc = bs__set(c, key, buf, strlen(buf)))) {
		bs__rollback(c);
		return rc;
	}
	return bs__commit(c);
}

/* PUT path with the stream of fd (a regular file), If-Match from vkey. */
static int
upload(struct bs_client *c, const char *path, const char *vkey, int auth, const char *extra,
    enum bs1_kind kind, const struct bs1_key *key, int fd, bs_progress_fn progress, void *parg)
{
	struct up u = {0};
	struct bs_xfer x = {0};
	struct bs_resp r = {0};
	const char *headers[3] = {NULL, NULL, NULL};
	char cond[64];
	struct stat sb;
	int64_t seen = seen_version(c, vkey);
	int rc;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return bs__fail(c, BS_LOCAL, "bad_input", "the input must be a regular file");
	u.fd = fd;
	u.kind = kind;
	u.key = key;
	u.plain = (uint64_t)sb.st_size;
	u.total = bs1_stream_len(u.plain);
	u.progress = progress;
	u.parg = parg;
	u.cap = 2 * BS1_CHUNK + BS1_STREAM_HEADER;
	if (!(u.buf = malloc(u.cap)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if (up_rewind(&u) != 0) {
		rc = bs__fail(c, BS_LOCAL, "bad_input", "cannot read the input from its start");
		goto out;
	}
	if (seen > 0)
		snprintf(cond, sizeof cond, "If-Match: \"%lld\"", (long long)seen);
	else
		snprintf(cond, sizeof cond, "If-None-Match: *");
	headers[0] = cond;
	headers[1] = extra;
	x.headers = headers;
	x.read = up_read;
	x.rewind = up_rewind;
	x.read_arg = &u;
	x.size = (int64_t)u.total;
	rc = bs__request_x(c, "PUT", path, NULL, auth, &x, &r);
	if (u.failed && rc == BS_OK)
		rc = bs__fail(c, BS_LOCAL, "bad_input", "the input changed or failed while it was read");
	if (rc)
		goto out;
	if (r.status == 412)
		rc = bs__fail(c, BS_CONFLICT, "precondition_failed", "it changed on the server since this "
		    "home last saw it: nothing was overwritten (get it first, then put again)");
	else if (r.status != 200 && r.status != 201)
		rc = bs__refused(c, &r);
	else
		rc = remember_version(c, vkey, answered_version(&r, &x));
out:
	bs__resp_clear(&r);
	bs1_stream_free(u.w);
	if (u.buf)
		bs1_wipe(u.buf, u.cap);
	free(u.buf);
	return rc;
}

/* ---- download: libcurl -> stream reader -> temp file or stdout ---------- */

struct down {
	struct bs1_stream *rd;
	int fd;
	int bad;          /* the stream failed to open */
	int io;           /* the output failed */
};

static int
down_out(void *arg, const uint8_t *p, size_t n)
{
	struct down *d = arg;

	while (n > 0) {
		ssize_t k = write(d->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			d->io = 1;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
down_sink(void *arg, const uint8_t *p, size_t n)
{
	struct down *d = arg;
	int e = bs1_stream_read(d->rd, p, n, down_out, d);

	if (e != BS1_OK && !d->io)
		d->bad = 1;
	return e == BS1_OK ? 0 : -1;
}

/* GET path through the stream reader into out ("-": stdout); vkey gets the
 * version seen. */
static int
download(struct bs_client *c, const char *path, const char *vkey, int auth,
    enum bs1_kind kind, const struct bs1_key *key, const char *out, const char *what)
{
	struct down d = {NULL, -1, 0, 0};
	struct bs_xfer x = {0};
	struct bs_resp r = {0};
	char *tmp = NULL;
	int rc, e;

	if (bs1_stream_reader_new(kind, key, &d.rd) != BS1_OK)
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if (strcmp(out, "-") == 0)
		d.fd = STDOUT_FILENO;
	else {
		if (asprintf(&tmp, "%s.tmp.XXXXXX", out) < 0) {
			tmp = NULL;
			rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
			goto out;
		}
		if ((d.fd = mkstemp(tmp)) < 0) {
			rc = bs__fail(c, BS_LOCAL, "output", "cannot create %s: %s", tmp, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto out;
		}
	}
	x.sink = down_sink;
	x.sink_arg = &d;
	rc = bs__request_x(c, "GET", path, NULL, auth, &x, &r);
	if (rc == BS_OK && r.status == 404) {
		rc = bs__fail(c, BS_REFUSED, "not_found", "no %s", what);
		goto out;
	}
	if (rc == BS_OK && r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if (d.bad) {
		rc = bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt the %s (tampered or "
		    "truncated); nothing was written", what);
		goto out;
	}
	if (d.io) {
		rc = bs__fail(c, BS_LOCAL, "output", "cannot write the output: %s", strerror(errno));
		goto out;
	}
	if (rc)
		goto out;
	if ((e = bs1_stream_read_end(d.rd, down_out, &d)) != BS1_OK) {
		rc = d.io ? bs__fail(c, BS_LOCAL, "output", "cannot write the output") :
		    bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt the %s (tampered or "
		    "truncated); nothing was written", what);
		goto out;
	}
	if (tmp) {
		if (fsync(d.fd) != 0 || close(d.fd) != 0 || rename(tmp, out) != 0) {
			d.fd = -1;
			rc = bs__fail(c, BS_LOCAL, "output", "cannot write %s: %s", out, strerror(errno));
			goto out;
		}
		d.fd = -1;
		free(tmp);
		tmp = NULL;
	}
	if (x.etag[0])
		rc = remember_version(c, vkey, strtoll(x.etag, NULL, 10));
out:
	if (tmp) {
		if (d.fd >= 0)
			close(d.fd);
		unlink(tmp);
		free(tmp);
	}
	bs__resp_clear(&r);
	bs1_stream_free(d.rd);
	return rc;
}

/* ---- backups ------------------------------------------------------------ */

/* The backup's path and state key; BS_LOCAL for a name the API refuses. */
static int
backup_names(struct bs_client *c, const char *name, char *path, size_t plen, char *vkey, size_t klen)
{
	size_t n = strlen(name);

	if (n < 1 || n > 64 || name[0] == '.' || name[0] == '~' ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~") != n)
		return bs__fail(c, BS_LOCAL, "bad_name", "a backup name is 1-64 of A-Z a-z 0-9 _ - . ~ "
		    "(the server sees it: pick one that says nothing)");
	snprintf(path, plen, "/v1/backups/%s", name);
	snprintf(vkey, klen, "backup:%s", name);
	return BS_OK;
}

int
bs_backup_put(struct bs_client *c, const char *name, int fd, bs_progress_fn progress, void *arg)
{
	char path[96], vkey[96];
	struct bs1_key key;
	int rc;

	if ((rc = bs__need_session(c)) || (rc = backup_names(c, name, path, sizeof path, vkey, sizeof vkey)))
		return rc;
	if (bs1_backup_key(&c->data_key, name, &key) != BS1_OK)
		return bs__fail(c, BS_LOCAL, "crypto", "cannot derive the backup key");
	rc = upload(c, path, vkey, 1, NULL, BS1_KIND_BACKUP, &key, fd, progress, arg);
	bs1_wipe(&key, sizeof key);
	return rc;
}

int
bs_backup_get(struct bs_client *c, const char *name, const char *out)
{
	char path[96], vkey[96];
	struct bs1_key key;
	int rc;

	if ((rc = bs__need_session(c)) || (rc = backup_names(c, name, path, sizeof path, vkey, sizeof vkey)))
		return rc;
	if (bs1_backup_key(&c->data_key, name, &key) != BS1_OK)
		return bs__fail(c, BS_LOCAL, "crypto", "cannot derive the backup key");
	rc = download(c, path, vkey, 1, BS1_KIND_BACKUP, &key, out, "backup");
	bs1_wipe(&key, sizeof key);
	return rc;
}

int
bs_backup_list(struct bs_client *c, bs_name_fn fn, void *arg)
{
	struct bs_resp r = {0};
	struct json_object *arr, *v, *b;
	int rc;

	if ((rc = bs__need_session(c)) || (rc = bs__request(c, "GET", "/v1/backups", NULL, 1, &r)))
		return rc;
	if (r.status != 200)
		rc = bs__refused(c, &r);
	else if (!json_object_object_get_ex(r.json, "backups", &arr) || !json_object_is_type(arr, json_type_array))
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the backups answer is malformed");
	else
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i);
			const char *name = bs__get_str(o, "name");
			if (name && json_object_object_get_ex(o, "version", &v) &&
			    json_object_object_get_ex(o, "bytes", &b))
				fn(arg, name, json_object_get_int64(v), (size_t)json_object_get_int64(b));
		}
	bs__resp_clear(&r);
	return rc;
}

int
bs_backup_delete(struct bs_client *c, const char *name)
{
	char path[96], vkey[96];
	struct bs_resp r = {0};
	int rc;

	if ((rc = bs__need_session(c)) || (rc = backup_names(c, name, path, sizeof path, vkey, sizeof vkey)) ||
	    (rc = bs__request(c, "DELETE", path, NULL, 1, &r)))
		return rc;
	if (r.status != 204)
		rc = bs__refused(c, &r);
	bs__resp_clear(&r);
	return rc;
}

/* ---- anonymous slots ---------------------------------------------------- */

/* The slot of (app, passphrase); BS_LOCAL with the rule's message. */
static int
slot_of(struct bs_client *c, const char *app, const char *pp, struct bs1_slot *s)
{
	int e;

	if (!app)
		app = BS1_DEFAULT_APP;
	e = bs1_slot_derive(app, strlen(app), pp, strlen(pp), s);
	if (e == BS1_E_PASSPHRASE)
		return bs__fail(c, BS_LOCAL, "weak_passphrase", "a slot passphrase needs at least %d "
		    "characters", BS1_SLOT_MIN_CHARS);
	if (e)
		return bs__fail(c, BS_LOCAL, "bad_passphrase", "%s", bs1_strerror(e));
	return BS_OK;
}

int
bs_slot_put(struct bs_client *c, const char *app, const char *passphrase, int fd,
    bs_progress_fn progress, void *arg)
{
	struct bs1_slot s;
	char path[96], vkey[96], *hdr = NULL;
	int rc;

	if ((rc = slot_of(c, app, passphrase, &s)))
		return rc;
	snprintf(path, sizeof path, "/v1/slots/%s", s.id);
	snprintf(vkey, sizeof vkey, "slot:%s", s.id);
	if (asprintf(&hdr, "X-Slot-Key: %s", s.key_b64) < 0)
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	else {
		rc = upload(c, path, vkey, 0, hdr, BS1_KIND_SLOT, &s.enc, fd, progress, arg);
		bs1_wipe(hdr, strlen(hdr));
		free(hdr);
	}
	if (rc == BS_REFUSED && strcmp(c->code, "not_found") == 0)
		rc = bs__fail(c, BS_REFUSED, "not_found", "this server has no anonymous slots");
	bs1_wipe(&s, sizeof s);
	return rc;
}

int
bs_slot_get(struct bs_client *c, const char *app, const char *passphrase, const char *out)
{
	struct bs1_slot s;
	char path[96], vkey[96];
	int rc;

	if ((rc = slot_of(c, app, passphrase, &s)))
		return rc;
	snprintf(path, sizeof path, "/v1/slots/%s", s.id);
	snprintf(vkey, sizeof vkey, "slot:%s", s.id);
	rc = download(c, path, vkey, 0, BS1_KIND_SLOT, &s.enc, out, "slot for this passphrase");
	bs1_wipe(&s, sizeof s);
	return rc;
}

/* ---- export ------------------------------------------------------------- */

/* Write every byte of the export to the temporary file. */
static int
raw_out(void *arg, const uint8_t *p, size_t n)
{
	struct down *d = arg;

	return down_out(d, p, n);
}

int
bs_export(struct bs_client *c, const char *out)
{
	struct down d = {NULL, -1, 0, 0};
	struct bs_xfer x = {0};
	struct bs_resp r = {0};
	char *tmp = NULL;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", out) < 0)
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	if ((d.fd = mkstemp(tmp)) < 0) {
		rc = bs__fail(c, BS_LOCAL, "output", "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	x.sink = raw_out;
	x.sink_arg = &d;
	rc = bs__request_x(c, "GET", "/v1/account/export", NULL, 1, &x, &r);
	if (d.io)
		rc = bs__fail(c, BS_LOCAL, "output", "cannot write %s: %s", tmp, strerror(errno));
	else if (rc == BS_OK && r.status != 200)
		rc = bs__refused(c, &r);
	/* the server streams it: a document cut short is not one (its last byte is '}') */
	if (rc == BS_OK) {
		char last = 0;
		if (lseek(d.fd, -1, SEEK_END) < 0 || read(d.fd, &last, 1) != 1 || last != '}')
			rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the export was cut short");
	}
	if (rc == BS_OK && (fsync(d.fd) != 0 || rename(tmp, out) != 0))
		rc = bs__fail(c, BS_LOCAL, "output", "cannot write %s: %s", out, strerror(errno));
	close(d.fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	bs__resp_clear(&r);
	return rc;
}
