/*
 * test_mfa.c: TOTP (RFC 6238 Appendix B, drift, replay), base32, the
 * otpauth URI, the sealed TOTP secret and recovery codes (fcgi/lib/mfa.c).
 */
#include "mfa.h"

#include "t.h"

static const uint8_t rfc_seed[20] = "12345678901234567890";

/* RFC 6238 Appendix B, SHA-1: the 8-digit values' last 6 digits are our 6-digit codes. */
static void test_vectors(void)
{
	static const struct { int64_t t; const char *code8; } v[] = {
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000LL, "65353130"},
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		uint32_t c = 0;
		char got[16];
		T_EQ_INT(mfa_hotp(rfc_seed, 20, (uint64_t)mfa_totp_step(v[i].t), &c), 0);
		snprintf(got, sizeof got, "%06u", (unsigned)c);
		T_EQ_STR(got, v[i].code8 + 2);
		int64_t st = -1;
		T_EQ_INT(mfa_totp_check(rfc_seed, v[i].code8 + 2, 6, v[i].t, 0, &st), 1);
		T_EQ_INT(st, v[i].t / 30);
	}
}

/* A code of step t at times t-2 .. t+2 steps. */
static void test_drift_replay(void)
{
	const int64_t t0 = 1234567890, step = t0 / 30;
	uint32_t c;
	char code[8];
	T_EQ_INT(mfa_hotp(rfc_seed, 20, (uint64_t)step, &c), 0);
	snprintf(code, sizeof code, "%06u", (unsigned)c);
	int64_t st;
	T_EQ_INT(mfa_totp_check(rfc_seed, code, 6, t0 - 30, 0, &st), 1);   /* one step early: fine */
	T_EQ_INT(mfa_totp_check(rfc_seed, code, 6, t0 + 30, 0, &st), 1);   /* one step late: fine */
	T_EQ_INT(st, step);
	T_EQ_INT(mfa_totp_check(rfc_seed, code, 6, t0 - 60, 0, &st), 0);   /* two steps: refused */
	T_EQ_INT(mfa_totp_check(rfc_seed, code, 6, t0 + 60, 0, &st), 0);
	/* replay: the step used last, or one before it, is refused */
	T_EQ_INT(mfa_totp_check(rfc_seed, code, 6, t0, step, &st), 0);
	T_EQ_INT(mfa_totp_check(rfc_seed, code, 6, t0, step + 1, &st), 0);
	T_EQ_INT(mfa_totp_check(rfc_seed, code, 6, t0, step - 1, &st), 1);
	/* shapes */
	T_EQ_INT(mfa_totp_check(rfc_seed, "12345", 5, t0, 0, &st), 0);
	T_EQ_INT(mfa_totp_check(rfc_seed, "12345a", 6, t0, 0, &st), 0);
	T_EQ_INT(mfa_totp_shape("000000", 6), 1);
	T_EQ_INT(mfa_totp_shape("0000000", 7), 0);
	T_EQ_INT(mfa_totp_shape(" 00000", 6), 0);
}

static void test_base32_uri(void)
{
	char b[64], uri[MFA_URI_MAX];
	/* RFC 4648 §10, without padding */
	T_EQ_INT(mfa_base32((const uint8_t *)"foobar", 6, b, sizeof b), 10);
	T_EQ_STR(b, "MZXW6YTBOI");
	T_EQ_INT(mfa_base32((const uint8_t *)"f", 1, b, sizeof b), 2);
	T_EQ_STR(b, "MY");
	T_EQ_INT(mfa_base32(rfc_seed, 20, b, sizeof b), MFA_TOTP_B32_LEN);
	T_EQ_STR(b, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	T_EQ_INT(mfa_base32(rfc_seed, 20, b, 32), -1);
	T_EQ_INT(mfa_totp_uri("Acme Sync", "a@b.c", b, uri, sizeof uri), 0);
	T_EQ_STR(uri, "otpauth://totp/Acme%20Sync:a%40b.c?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	    "&issuer=Acme%20Sync&algorithm=SHA1&digits=6&period=30");
	T_EQ_INT(mfa_totp_uri("Acme Sync", "a@b.c", b, uri, 40), -1);
}

static void test_seal(void)
{
	uint8_t server[AUTH_SECRET_LEN], other[AUTH_SECRET_LEN], box[MFA_SEALED_LEN], back[20];
	memset(server, 1, sizeof server);
	memset(other, 2, sizeof other);
	T_EQ_INT(mfa_totp_seal(server, "acc1", rfc_seed, box), 0);
	T_OK(memmem(box, sizeof box, rfc_seed, 20) == NULL);
	T_EQ_INT(mfa_totp_open(server, "acc1", box, sizeof box, back), 0);
	T_OK(memcmp(back, rfc_seed, 20) == 0);
	T_EQ_INT(mfa_totp_open(server, "acc2", box, sizeof box, back), -1);  /* another account */
	T_EQ_INT(mfa_totp_open(other, "acc1", box, sizeof box, back), -1);   /* another server secret */
	T_EQ_INT(mfa_totp_open(server, "acc1", box, sizeof box - 1, back), -1);
}

static void test_codes(void)
{
	uint8_t server[AUTH_SECRET_LEN], h1[32], h2[32], h3[32];
	char c[MFA_CODE_TEXT + 1], c2[MFA_CODE_TEXT + 1], n[MFA_CODE_CHARS + 1], n2[MFA_CODE_CHARS + 1];
	memset(server, 1, sizeof server);
	T_EQ_INT(mfa_code_new(c), 0);
	T_EQ_INT(mfa_code_new(c2), 0);
	T_EQ_INT((long)strlen(c), MFA_CODE_TEXT);
	T_OK(c[4] == '-' && c[9] == '-');
	T_OK(strcmp(c, c2) != 0);
	T_EQ_INT(mfa_code_norm(c, strlen(c), n), 0);
	/* as typed: upper case, spaces instead of dashes */
	char typed[32];
	snprintf(typed, sizeof typed, " %.4s %.4s %.4s ", c, c + 5, c + 10);
	for (char *p = typed; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	T_EQ_INT(mfa_code_norm(typed, strlen(typed), n2), 0);
	T_EQ_STR(n, n2);
	T_EQ_INT(mfa_code_norm("abcd-efgh-ijk", 13, n2), -1);      /* short */
	T_EQ_INT(mfa_code_norm("abcd-efgh-ijkl-m", 16, n2), -1);   /* long */
	T_EQ_INT(mfa_code_norm("abcd-efgh-ijk1", 14, n2), -1);     /* not base32 */
	T_EQ_INT(mfa_code_hash(server, "acc1", n, h1), 0);
	T_EQ_INT(mfa_code_hash(server, "acc1", n, h2), 0);
	T_EQ_INT(mfa_code_hash(server, "acc2", n, h3), 0);
	T_OK(memcmp(h1, h2, 32) == 0);
	T_OK(memcmp(h1, h3, 32) != 0);
}

int main(void)
{
	T_RUN(test_vectors);
	T_RUN(test_drift_replay);
	T_RUN(test_base32_uri);
	T_RUN(test_seal);
	T_RUN(test_codes);
	return t_done();
}
