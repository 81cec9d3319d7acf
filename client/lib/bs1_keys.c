/*
 * bs1_keys.c: the keys derived from the data key and the opaque names of
 * client.md section 4: ck, id_key, cid_key, backup_key, the server's names
 * of collections and records.
 *
 * Names are used exactly as the application gives them (never normalised);
 * derived keys are the caller's to wipe, temporaries are wiped here.
 */
#include <string.h>

#include "bsc.h"
#include "bs1.h"
#include "bs1_impl.h"

/* A fresh random data key. */
int
bs1_data_key_new(struct bs1_key *data_key)
{
	if (!data_key)
		return BS1_E_INPUT;
	return bsc_random(data_key->b, sizeof data_key->b) == 0 ? BS1_OK : BS1_E_CRYPTO;
}

/* ck(collection, kv). */
int
bs1_ck(const struct bs1_key *data_key, const char *collection, uint32_t kv,
    struct bs1_key *out)
{
	if (!collection)
		return BS1_E_INPUT;
	return bs1__hkdf_named(data_key, "blindsync bs1 collection key", collection, 1, kv, out);
}

/* id_key. */
int
bs1_id_key(const struct bs1_key *data_key, struct bs1_key *out)
{
	return bs1__hkdf_named(data_key, "blindsync bs1 id key", NULL, 0, 0, out);
}

/* cid_key(collection). */
int
bs1_cid_key(const struct bs1_key *data_key, const char *collection, struct bs1_key *out)
{
	if (!collection)
		return BS1_E_INPUT;
	return bs1__hkdf_named(data_key, "blindsync bs1 collection id key", collection, 0, 0, out);
}

/* backup_key(name). */
int
bs1_backup_key(const struct bs1_key *data_key, const char *name, struct bs1_key *out)
{
	if (!name)
		return BS1_E_INPUT;
	return bs1__hkdf_named(data_key, "blindsync bs1 backup key", name, 0, 0, out);
}

/* b64url(HMAC(key, prefix || lp(name)))[0:22]. */
static int
opaque(const struct bs1_key *key, const char *prefix, const char *name,
    char out[BS1_NAME_LEN + 1])
{
	struct bs1_bytes m = { 0 };
	uint8_t mac[BSC_SHA256_LEN];
	char b64[48];
	int rc;

	if (!key || !name || !out)
		return BS1_E_INPUT;
	bs1__put_str(&m, prefix);
	bs1__put_lp(&m, name, strlen(name));
	rc = bs1__bytes_status(&m);
	if (rc == BS1_OK && (bsc_hmac_sha256(key->b, sizeof key->b, m.p, m.n, mac) != 0 ||
	    bsc_b64_encode(mac, sizeof mac, b64, sizeof b64, BSC_B64_URL) < BS1_NAME_LEN))
		rc = BS1_E_CRYPTO;
	if (rc == BS1_OK) {
		memcpy(out, b64, BS1_NAME_LEN);
		out[BS1_NAME_LEN] = '\0';
	}
	bs1__bytes_free(&m);
	return rc;
}

/* The server's name of collection A. */
int
bs1_collection_name(const struct bs1_key *id_key, const char *A, char out[BS1_NAME_LEN + 1])
{
	return opaque(id_key, "c", A, out);
}

/* The server's id of record a. */
int
bs1_record_id(const struct bs1_key *cid_key, const char *a, char out[BS1_NAME_LEN + 1])
{
	return opaque(cid_key, "r", a, out);
}
