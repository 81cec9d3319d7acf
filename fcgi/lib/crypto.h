/*
 * crypto.h: TEMPORARY compatibility names for the crypto helpers, which moved
 * to their own library, fcgi/crypto/ (bsc.h, build/libbscrypto.a), under the
 * prefix bsc_. Only here so that the move and the rename of the callers are
 * two commits; the next commit renames every caller and deletes this file.
 */
#ifndef BLINDSYNC_CRYPTO_H
#define BLINDSYNC_CRYPTO_H

#include "bsc.h"

#define CRYPTO_SHA256_LEN	BSC_SHA256_LEN
#define CRYPTO_MUST_USE		BSC_MUST_USE
#define CRYPTO_B64_STD		BSC_B64_STD
#define CRYPTO_B64_URL		BSC_B64_URL
#define crypto_b64		bsc_b64
#define crypto_random		bsc_random
#define crypto_sha256		bsc_sha256
#define crypto_sha256_ctx	bsc_sha256_ctx
#define crypto_sha256_new	bsc_sha256_new
#define crypto_sha256_update	bsc_sha256_update
#define crypto_sha256_final	bsc_sha256_final
#define crypto_sha256_free	bsc_sha256_free
#define crypto_hmac_sha256	bsc_hmac_sha256
#define crypto_pbkdf2_sha256	bsc_pbkdf2_sha256
#define crypto_equal		bsc_equal
#define crypto_wipe		bsc_wipe
#define crypto_hex		bsc_hex
#define crypto_b64_enclen	bsc_b64_enclen
#define crypto_b64_declen_max	bsc_b64_declen_max
#define crypto_b64_encode	bsc_b64_encode
#define crypto_b64_decode	bsc_b64_decode

#endif
