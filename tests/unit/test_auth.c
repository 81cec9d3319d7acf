/*
 * test_auth.c: unit tests of fcgi/lib/auth.c without a request: tokens
 * (format, hash, strict parsing), public ids, auth key hashing and
 * verification (known answers computed independently with Python's
 * hashlib.pbkdf2_hmac, and against bsc_pbkdf2_sha256), usernames (every
 * byte at every kind of position, the bounds, lowercasing), and the server
 * secret file (creation, mode, reload, wrong sizes, 8 processes racing to
 * create it). auth_require() needs a request and is covered by test_serve and
 * the CGI/e2e tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "bsc.h"
#include "t.h"

static char tmpdir[64];
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *
hex(const uint8_t *d, size_t n)
{
	static char buf[2 * 64 + 1];

	if (bsc_hex(d, n, buf, sizeof buf) != 0)
		return "(hex failed)";
	return buf;
}

static int
all_b64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(b64url, s[i]))
			return 0;
	return 1;
}

/* This thread's CPU time in milliseconds (not wall time: immune to preemption). */
static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- tokens ---- */

static void
test_token_new(void)
{
	struct auth_token t, u;
	uint8_t h[BSC_SHA256_LEN];

	memset(&t, 0x7f, sizeof t);
	T_EQ_INT(auth_token_new(&t), 0);
	T_EQ_INT(strlen(t.text), AUTH_TOKEN_LEN);
	T_OK(all_b64url(t.text, AUTH_TOKEN_LEN));
	T_EQ_INT(auth_token_hash(t.text, strlen(t.text), h), 0);
	T_OK(memcmp(h, t.hash, sizeof h) == 0);
	/* the hash is SHA-256 of the 32 raw bytes, not of the text */
	uint8_t raw[AUTH_TOKEN_BYTES], want[BSC_SHA256_LEN];
	T_EQ_INT(bsc_b64_decode(t.text, AUTH_TOKEN_LEN, raw, sizeof raw, BSC_B64_URL), AUTH_TOKEN_BYTES);
	T_EQ_INT(bsc_sha256(raw, sizeof raw, want), 0);
	T_OK(memcmp(want, t.hash, sizeof want) == 0);

	T_EQ_INT(auth_token_new(&u), 0);
	T_OK(strcmp(t.text, u.text) != 0);
	T_OK(memcmp(t.hash, u.hash, sizeof h) != 0);

	/* many tokens: always 43 url-safe chars that parse back to their hash */
	int ok = 1;
	for (int i = 0; i < 500; i++) {
		if (auth_token_new(&u) != 0 || strlen(u.text) != AUTH_TOKEN_LEN || !all_b64url(u.text, AUTH_TOKEN_LEN) ||
		    auth_token_hash(u.text, AUTH_TOKEN_LEN, h) != 0 || memcmp(h, u.hash, sizeof h) != 0)
			ok = 0;
	}
	T_OK(ok);
}

static void
test_token_hash_known(void)
{
	/* 32 zero bytes: 42 'A' then 'A'; SHA-256 of 32 zero bytes */
	char z[AUTH_TOKEN_LEN + 1];
	uint8_t h[BSC_SHA256_LEN];

	memset(z, 'A', AUTH_TOKEN_LEN);
	z[AUTH_TOKEN_LEN] = '\0';
	T_EQ_INT(auth_token_hash(z, AUTH_TOKEN_LEN, h), 0);
	T_EQ_STR(hex(h, sizeof h), "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
	/* only the first len bytes are read */
	char longer[64];
	snprintf(longer, sizeof longer, "%s!!!!", z);
	T_EQ_INT(auth_token_hash(longer, AUTH_TOKEN_LEN, h), 0);
	T_EQ_STR(hex(h, sizeof h), "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
}

static void
test_token_malformed(void)
{
	struct auth_token t;
	uint8_t h[BSC_SHA256_LEN];
	char buf[64];

	T_EQ_INT(auth_token_new(&t), 0);
	T_EQ_INT(auth_token_hash(t.text, 0, h), -1);
	T_EQ_INT(auth_token_hash(t.text, AUTH_TOKEN_LEN - 1, h), -1);
	snprintf(buf, sizeof buf, "%sA", t.text);
	T_EQ_INT(auth_token_hash(buf, AUTH_TOKEN_LEN + 1, h), -1);
	snprintf(buf, sizeof buf, "%sAA", t.text);
	T_EQ_INT(auth_token_hash(buf, AUTH_TOKEN_LEN + 2, h), -1);
	/* a 44-char standard padded form of the same 32 bytes */
	snprintf(buf, sizeof buf, "%s=", t.text);
	T_EQ_INT(auth_token_hash(buf, AUTH_TOKEN_LEN + 1, h), -1);

	/* bad characters at the first, a middle and the last position */
	const char *bad = "+/= .\t\n\x01\x80\xff*%";
	int rejected = 1;
	for (const char *p = bad; *p; p++) {
		int pos[3] = { 0, 20, AUTH_TOKEN_LEN - 1 };
		for (int k = 0; k < 3; k++) {
			memcpy(buf, t.text, AUTH_TOKEN_LEN + 1);
			buf[pos[k]] = *p;
			if (auth_token_hash(buf, AUTH_TOKEN_LEN, h) != -1) {
				rejected = 0;
				fprintf(stderr, "accepted byte 0x%02x at %d\n", (unsigned char)*p, pos[k]);
			}
		}
	}
	T_OK(rejected);
	/* a NUL inside, given by length */
	memcpy(buf, t.text, AUTH_TOKEN_LEN + 1);
	buf[10] = '\0';
	T_EQ_INT(auth_token_hash(buf, AUTH_TOKEN_LEN, h), -1);

	/* non-canonical last char: 43 chars carry 258 bits, the last 2 must be 0 */
	int idx = (int)(strchr(b64url, t.text[AUTH_TOKEN_LEN - 1]) - b64url);
	T_EQ_INT(idx & 3, 0);
	int noncanon_rejected = 1;
	for (int low = 1; low < 4; low++) {
		memcpy(buf, t.text, AUTH_TOKEN_LEN + 1);
		buf[AUTH_TOKEN_LEN - 1] = b64url[idx | low];
		if (auth_token_hash(buf, AUTH_TOKEN_LEN, h) != -1)
			noncanon_rejected = 0;
	}
	T_OK(noncanon_rejected);
	/* the 42 'A' + 'B' form of the zero token */
	memset(buf, 'A', AUTH_TOKEN_LEN);
	buf[AUTH_TOKEN_LEN - 1] = 'B';
	T_EQ_INT(auth_token_hash(buf, AUTH_TOKEN_LEN, h), -1);
}

/* ---- public ids ---- */

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_public_id(void)
{
	enum { N = 1000 };
	static char ids[N][AUTH_PUBLIC_ID_BYTES * 2];
	int fmt = 1, dup = 0;

	for (int i = 0; i < N; i++) {
		if (auth_public_id(ids[i], 23) != 0 || strlen(ids[i]) != 22 || !all_b64url(ids[i], 22))
			fmt = 0;
	}
	T_OK(fmt);
	T_OK(22 <= STORE_PUBLIC_ID_MAX);
	qsort(ids, N, sizeof ids[0], cmp_id);
	for (int i = 1; i < N; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			dup++;
	T_EQ_INT(dup, 0);
	/* a buffer too small for 22 chars + NUL is refused */
	char small[22];
	T_EQ_INT(auth_public_id(small, sizeof small), -1);
}

/* ---- key hashing ---- */

static void
test_hash_key(void)
{
	const char *k1 = "correct horse battery staple, 32b";
	uint8_t salt1[STORE_SALT_LEN], salt2[STORE_SALT_LEN], key2[32];
	uint8_t out[STORE_HASH_LEN], ref[STORE_HASH_LEN];

	for (int i = 0; i < 16; i++) {
		salt1[i] = (uint8_t)i;
		salt2[i] = (uint8_t)(100 + i);
	}
	for (int i = 0; i < 32; i++)
		key2[i] = (uint8_t)i;
	/* known answers: python3 hashlib.pbkdf2_hmac('sha256', key, salt, n) */
	T_EQ_INT(auth_hash_key((const uint8_t *)k1, strlen(k1), salt1, 1000, out), 0);
	T_EQ_STR(hex(out, sizeof out), "b79042c9a792985c8966269023e22ba212c9a4da999fb0dc3a3477c634e7f430");
	T_EQ_INT(auth_hash_key(key2, sizeof key2, salt2, 1, out), 0);
	T_EQ_STR(hex(out, sizeof out), "9910ec4788bff5996f8058184e0b3ddeca0490509df8a6c8fd647731a4621843");
	/* and the same as the crypto module with the salt of STORE_SALT_LEN */
	T_EQ_INT(bsc_pbkdf2_sha256(key2, sizeof key2, salt1, STORE_SALT_LEN, 777, ref, sizeof ref), 0);
	T_EQ_INT(auth_hash_key(key2, sizeof key2, salt1, 777, out), 0);
	T_OK(memcmp(out, ref, sizeof out) == 0);
	/* iterations out of range */
	T_EQ_INT(auth_hash_key(key2, sizeof key2, salt1, 0, out), -1);
	T_EQ_INT(auth_hash_key(key2, sizeof key2, salt1, -1, out), -1);
	T_EQ_INT(auth_hash_key(key2, sizeof key2, salt1, (int64_t)UINT32_MAX + 1, out), -1);
}

static void
test_verify_key(void)
{
	struct store_account a;
	uint8_t key[AUTH_KEY_MIN];

	memset(&a, 0, sizeof a);
	for (int i = 0; i < AUTH_KEY_MIN; i++)
		key[i] = (uint8_t)(i * 7);
	for (int i = 0; i < STORE_SALT_LEN; i++)
		a.auth_salt[i] = (uint8_t)(i + 1);
	a.auth_iterations = 1000;
	T_EQ_INT(auth_hash_key(key, sizeof key, a.auth_salt, a.auth_iterations, a.auth_hash), 0);

	T_EQ_INT(auth_verify_key(&a, key, sizeof key, 1000), 1);
	/* the account's own iteration count counts, not the argument */
	T_EQ_INT(auth_verify_key(&a, key, sizeof key, 5), 1);
	uint8_t wrong[AUTH_KEY_MIN];
	memcpy(wrong, key, sizeof wrong);
	wrong[31] ^= 1;
	T_EQ_INT(auth_verify_key(&a, wrong, sizeof wrong, 1000), 0);
	T_EQ_INT(auth_verify_key(&a, key, sizeof key - 1, 1000), 0);
	struct store_account b = a;
	b.auth_salt[0] ^= 0x80;
	T_EQ_INT(auth_verify_key(&b, key, sizeof key, 1000), 0);
	b = a;
	b.auth_iterations = 1001;
	T_EQ_INT(auth_verify_key(&b, key, sizeof key, 1000), 0);
	b = a;
	b.auth_iterations = 0;
	T_EQ_INT(auth_verify_key(&b, key, sizeof key, 1000), 0);
	b = a;
	b.auth_hash[STORE_HASH_LEN - 1] ^= 1;
	T_EQ_INT(auth_verify_key(&b, key, sizeof key, 1000), 0);

	/* unknown user: always 0, even for the key whose hash is all-dummy */
	T_EQ_INT(auth_verify_key(NULL, key, sizeof key, 1000), 0);
	T_EQ_INT(auth_verify_key(NULL, key, sizeof key, 0), 0);
	static const uint8_t zero_salt[STORE_SALT_LEN];
	struct store_account z;
	memset(&z, 0, sizeof z);
	z.auth_iterations = 1000;
	T_EQ_INT(auth_hash_key(key, sizeof key, zero_salt, 1000, z.auth_hash), 0);
	T_EQ_INT(auth_verify_key(&z, key, sizeof key, 1000), 1);
	T_EQ_INT(auth_verify_key(NULL, key, sizeof key, 1000), 0);

	/* ... and it does the work: not much quicker than a real check. Timed
	 * in this thread's CPU time, the least of three runs each, so that a
	 * busy machine (a preempted run) cannot make the comparison flake. */
	enum { ITER = 100000 };
	a.auth_iterations = ITER;
	T_EQ_INT(auth_hash_key(key, sizeof key, a.auth_salt, ITER, a.auth_hash), 0);
	double real = 1e9, dummy = 1e9;
	for (int i = 0; i < 3; i++) {
		double t0 = cpu_ms();
		T_EQ_INT(auth_verify_key(&a, key, sizeof key, ITER), 1);
		double t = cpu_ms() - t0;
		real = t < real ? t : real;
		t0 = cpu_ms();
		T_EQ_INT(auth_verify_key(NULL, key, sizeof key, ITER), 0);
		t = cpu_ms() - t0;
		dummy = t < dummy ? t : dummy;
	}
	if (dummy < real * 0.3)
		fprintf(stderr, "dummy verify %.1f ms vs real %.1f ms (CPU)\n", dummy, real);
	T_OK(dummy >= real * 0.3);
}

/* ---- usernames ---- */

static int
uname(const char *s, size_t n, char *out)
{
	memset(out, '#', 80);
	return auth_username(s, n, out);
}

static void
test_username_valid(void)
{
	char out[80];
	char b[80];

	T_EQ_INT(uname("abc", 3, out), 0);
	T_EQ_STR(out, "abc");
	T_EQ_INT(uname("ABC", 3, out), 0);
	T_EQ_STR(out, "abc");
	T_EQ_INT(uname("Mixed.Case_User-1@Example.COM+tag", 33, out), 0);
	T_EQ_STR(out, "mixed.case_user-1@example.com+tag");
	T_EQ_INT(uname("0ab", 3, out), 0);
	T_EQ_STR(out, "0ab");
	T_EQ_INT(uname("9._-@+", 6, out), 0);
	T_EQ_STR(out, "9._-@+");
	T_EQ_INT(uname("a..", 3, out), 0);
	T_EQ_STR(out, "a..");
	/* given by length: what follows is not read */
	T_EQ_INT(uname("abcdef", 4, out), 0);
	T_EQ_STR(out, "abcd");
	/* 64 chars: written with its NUL at out[64], nothing beyond */
	memset(b, 'Z', 64);
	b[64] = '\0';
	T_EQ_INT(uname(b, 64, out), 0);
	T_EQ_INT(strlen(out), 64);
	T_EQ_INT(out[63], 'z');
	T_EQ_INT(out[65], '#');
}

static void
test_username_invalid(void)
{
	char out[80];
	char b[80];

	T_EQ_INT(uname("", 0, out), -1);
	T_EQ_INT(uname("a", 1, out), -1);
	T_EQ_INT(uname("ab", 2, out), -1);
	memset(b, 'a', 65);
	b[65] = '\0';
	T_EQ_INT(uname(b, 65, out), -1);
	T_EQ_INT(uname(b, 64, out), 0);
	for (const char *p = "._-@+"; *p; p++) {
		char s[4] = { *p, 'a', 'b', '\0' };
		T_EQ_INT(uname(s, 3, out), -1);
	}
	T_EQ_INT(uname(" abc", 4, out), -1);
	T_EQ_INT(uname("abc ", 4, out), -1);
	T_EQ_INT(uname("a bc", 4, out), -1);
	T_EQ_INT(uname("ab\tc", 4, out), -1);
	T_EQ_INT(uname("caf\xc3\xa9", 5, out), -1);
	T_EQ_INT(uname("\xc3\xa9t\xc3\xa9", 5, out), -1);
	T_EQ_INT(uname("ab\xe2\x80\x8b" "c", 6, out), -1);
	T_EQ_INT(uname("ab\0cd", 5, out), -1);
	T_EQ_INT(uname("abc\0", 4, out), -1);
	T_EQ_INT(uname("\0abc", 4, out), -1);
	T_EQ_INT(uname("a/bc", 4, out), -1);
	T_EQ_INT(uname("a~bc", 4, out), -1);
	T_EQ_INT(uname("a:bc", 4, out), -1);
	T_EQ_INT(uname("a%bc", 4, out), -1);

	/* every byte, first and later: exactly the documented set */
	const char *later = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@+";
	int first_ok = 1, later_ok = 1;
	for (int c = 0; c < 256; c++) {
		char s1[4] = { (char)c, 'x', 'y', '\0' };
		char s2[4] = { 'x', (char)c, 'y', '\0' };
		int want_later = c != 0 && strchr(later, c) != NULL;
		int want_first = want_later && strchr("._-@+", c) == NULL;
		if ((uname(s1, 3, out) == 0) != want_first) {
			first_ok = 0;
			fprintf(stderr, "first byte 0x%02x wrong\n", c);
		}
		if ((uname(s2, 3, out) == 0) != want_later) {
			later_ok = 0;
			fprintf(stderr, "later byte 0x%02x wrong\n", c);
		}
	}
	T_OK(first_ok);
	T_OK(later_ok);
}

/* ---- the server secret ---- */

static int
file_size_mode(const char *path, off_t *size, mode_t *mode)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	*size = st.st_size;
	*mode = st.st_mode & 07777;
	return 0;
}

static int
read_file(const char *path, uint8_t *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t got;

	if (fd < 0)
		return -1;
	got = read(fd, buf, n);
	close(fd);
	return (int)got;
}

/* Files in tmpdir whose name contains `part`. */
static int
count_files(const char *part)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, part))
			n++;
	closedir(d);
	return n;
}

static void
write_bytes(const char *path, size_t n)
{
	uint8_t b[64];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	memset(b, 0x42, sizeof b);
	if (fd < 0)
		return;
	if (write(fd, b, n) != (ssize_t)n)
		T_OK(0);
	close(fd);
}

static void
test_secret(void)
{
	char path[128], err[512];
	uint8_t s1[AUTH_SECRET_LEN], s2[AUTH_SECRET_LEN], disk[64], zero[AUTH_SECRET_LEN];
	off_t size = -1;
	mode_t mode = 0;

	snprintf(path, sizeof path, "%s/secret", tmpdir);
	memset(zero, 0, sizeof zero);
	mode_t old = umask(0);
	T_EQ_INT(auth_secret_load(path, s1, err, sizeof err), 0);
	umask(old);
	T_EQ_INT(file_size_mode(path, &size, &mode), 0);
	T_EQ_INT(size, AUTH_SECRET_LEN);
	T_EQ_INT(mode, 0600);
	T_EQ_INT(read_file(path, disk, sizeof disk), AUTH_SECRET_LEN);
	T_OK(memcmp(disk, s1, AUTH_SECRET_LEN) == 0);
	T_OK(memcmp(s1, zero, sizeof zero) != 0);
	T_EQ_INT(count_files(".tmp."), 0);
	/* again: the same */
	memset(s2, 0, sizeof s2);
	T_EQ_INT(auth_secret_load(path, s2, err, sizeof err), 0);
	T_OK(memcmp(s1, s2, sizeof s1) == 0);

	/* another path: another secret */
	char other[160];
	snprintf(other, sizeof other, "%s/secret2", tmpdir);
	T_EQ_INT(auth_secret_load(other, s2, err, sizeof err), 0);
	T_OK(memcmp(s1, s2, sizeof s1) != 0);

	/* wrong sizes are refused, with a message */
	size_t sizes[] = { 0, 1, AUTH_SECRET_LEN - 1, AUTH_SECRET_LEN + 1, 64 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		write_bytes(other, sizes[i]);
		err[0] = '\0';
		T_EQ_INT(auth_secret_load(other, s2, err, sizeof err), -1);
		T_OK(err[0] != '\0');
	}
	/* an existing file of the right size is used as it is, not replaced */
	write_bytes(other, AUTH_SECRET_LEN);
	T_EQ_INT(auth_secret_load(other, s2, err, sizeof err), 0);
	memset(disk, 0x42, AUTH_SECRET_LEN);
	T_OK(memcmp(s2, disk, AUTH_SECRET_LEN) == 0);
	/* a directory that does not exist */
	char nodir[160];
	snprintf(nodir, sizeof nodir, "%s/no/such/secret", tmpdir);
	err[0] = '\0';
	T_EQ_INT(auth_secret_load(nodir, s2, err, sizeof err), -1);
	T_OK(err[0] != '\0');
	unlink(other);
}

/*
 * A crash between creating the temp file and link() leaves "<path>.tmp.<pid>"
 * behind (white-box: that is the name auth.c uses). A later start that gets
 * the same pid, as is usual in a container where the server's pid repeats
 * on every boot, must still create the secret.
 */
static void
test_secret_stale_tmp(void)
{
	char path[128], tmp[200], err[512];
	uint8_t s[AUTH_SECRET_LEN];

	snprintf(path, sizeof path, "%s/stale", tmpdir);
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	write_bytes(tmp, 5);
	err[0] = '\0';
	int rc = auth_secret_load(path, s, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "auth_secret_load with a stale temp file: %s\n", err);
	T_EQ_INT(rc, 0);
	T_EQ_INT(access(path, F_OK), 0);
	unlink(tmp);
	unlink(path);
}

static void
test_secret_race(void)
{
	enum { N = 8 };
	char path[128], err[512];
	int go[2], res[N][2];
	pid_t pid[N];
	uint8_t got[N][AUTH_SECRET_LEN], disk[AUTH_SECRET_LEN];
	int ok = 1;

	snprintf(path, sizeof path, "%s/raced", tmpdir);
	T_EQ_INT(pipe(go), 0);
	for (int i = 0; i < N; i++) {
		T_EQ_INT(pipe(res[i]), 0);
		pid[i] = fork();
		if (pid[i] == 0) {
			uint8_t s[AUTH_SECRET_LEN];
			char c;
			close(go[1]);
			close(res[i][0]);
			while (read(go[0], &c, 1) > 0)
				;
			int rc = auth_secret_load(path, s, err, sizeof err);
			if (rc != 0)
				fprintf(stderr, "child %d: %s\n", i, err);
			else if (write(res[i][1], s, sizeof s) != (ssize_t)sizeof s)
				rc = -1;
			_exit(rc == 0 ? 0 : 1);
		}
		T_OK(pid[i] > 0);
		close(res[i][1]);
	}
	close(go[0]);
	close(go[1]); /* go */
	for (int i = 0; i < N; i++) {
		int st = -1;
		ssize_t n = read(res[i][0], got[i], AUTH_SECRET_LEN);
		close(res[i][0]);
		if (pid[i] > 0)
			waitpid(pid[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || n != AUTH_SECRET_LEN)
			ok = 0;
	}
	T_OK(ok);
	T_EQ_INT(read_file(path, disk, sizeof disk), AUTH_SECRET_LEN);
	int same = 1;
	for (int i = 0; i < N; i++)
		if (memcmp(got[i], disk, AUTH_SECRET_LEN) != 0)
			same = 0;
	T_OK(same);
	T_EQ_INT(count_files(".tmp."), 0);
}

int
main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "auth") != 0)
		return 1;
	T_RUN(test_token_new);
	T_RUN(test_token_hash_known);
	T_RUN(test_token_malformed);
	T_RUN(test_public_id);
	T_RUN(test_hash_key);
	T_RUN(test_verify_key);
	T_RUN(test_username_valid);
	T_RUN(test_username_invalid);
	T_RUN(test_secret);
	T_RUN(test_secret_stale_tmp);
	T_RUN(test_secret_race);
	t_tmpdir_remove(tmpdir);
	return t_done();
}
