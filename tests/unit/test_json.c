/* test_json.c: strict parsing, field tables, typed getters, the writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bsc.h"
#include "json.h"
#include "jstream.h"
#include "t.h"

static enum err parse(const char *s, struct json_object **o, char *msg)
{
	return json_parse(s, strlen(s), o, msg);
}

static void test_parse(void)
{
	char msg[ERR_MSG_MAX];
	struct json_object *o = NULL;
	T_EQ_INT(parse("{\"a\":1}", &o, msg), ERR_OK);
	json_object_put(o);
	T_EQ_INT(parse("  {\"a\":1}\n", &o, msg), ERR_OK);
	json_object_put(o);
	T_EQ_INT(parse("", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("{", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("{\"a\":1} x", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("{\"a\":1}{}", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("{'a':1}", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("{\"a\":1,}", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("{\"a\":\"\xff\xfe\"}", &o, msg), ERR_INVALID_JSON); /* bad UTF-8 */
	T_OK(o == NULL);
	/* embedded NUL */
	T_EQ_INT(json_parse("{\"a\":1}\0", 8, &o, msg), ERR_INVALID_JSON);
	/* depth limit */
	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	T_EQ_INT(parse(deep, &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("[[[[1]]]]", &o, msg), ERR_OK);
	json_object_put(o);
}

/* Repeated member names are refused at any depth; equal names in different objects are fine. */
static void test_duplicates(void)
{
	char msg[ERR_MSG_MAX];
	struct json_object *o = (struct json_object *)1;
	T_EQ_INT(parse("{\"id\":\"a\",\"id\":\"b\"}", &o, msg), ERR_INVALID_JSON);
	T_OK(o == NULL);
	T_OK(strstr(msg, "repeats a member name") != NULL);
	T_EQ_INT(parse("{\"a\":{\"x\":1,\"x\":{\"y\":[1,2]}}}", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("[{\"a\":1},{\"b\":[{\"c\":null,\"c\":null}]}]", &o, msg), ERR_INVALID_JSON);
	/* the same name written with an escape is the same name */
	T_EQ_INT(parse("{\"id\":1,\"\\u0069d\":2}", &o, msg), ERR_INVALID_JSON);
	T_EQ_INT(parse("{\"a\":{\"x\":1},\"b\":{\"x\":1},\"x\":[\"x\",\"x\"]}", &o, msg), ERR_OK);
	json_object_put(o);
	/* strings that look like member names, nulls, every bare token */
	T_EQ_INT(parse("[\"a\" , \"b:\", null, true, false, -1.5e+3, 0, {\"k\" :\"v\"}]", &o, msg), ERR_OK);
	json_object_put(o);
	T_EQ_INT(parse("{\"k\\\"\":1,\"k\":2}", &o, msg), ERR_OK); /* k" and k */
	json_object_put(o);
}

/* The value cap: counted before json-c builds anything, refused as too large. */
static void test_value_cap(void)
{
	char msg[ERR_MSG_MAX];
	struct json_object *o = NULL;
	T_EQ_INT(json_parse_max("[0,0,0]", 7, 4, &o, msg), ERR_OK);
	json_object_put(o);
	T_EQ_INT(json_parse_max("[0,0,0,0]", 9, 4, &o, msg), ERR_BODY_TOO_LARGE);
	T_OK(o == NULL);
	T_EQ_INT(json_parse_max("{\"a\":{},\"b\":[]}", 15, 2, &o, msg), ERR_BODY_TOO_LARGE);
	T_EQ_INT(json_parse_max("{\"a\":{},\"b\":[]}", 15, 3, &o, msg), ERR_OK);
	json_object_put(o);
	T_EQ_INT(json_values_cap(1000), (size_t)1000 * JSON_VALUES_PER_RECORD + JSON_VALUES_BASE);
	T_EQ_INT(json_values_cap(INT64_MAX), JSON_VALUES_CAP_MAX);
	T_EQ_INT(json_values_cap(0), JSON_VALUES_PER_RECORD + JSON_VALUES_BASE);
}

/* json_member_text: the exact text of an object member, checked as an import reads it. */
static void test_member_text(void)
{
	char msg[ERR_MSG_MAX];
	const struct jstream_opts o = {0, 4096, 31};
	size_t off, n;
	const char *b = "{\"keyring\":\"AAAA\", \"kdf\" : { \"n\":18446744073709551616,\"s\":\"\\ud83d\\ude00\" } ,\"x\":1}";
	T_EQ_INT(json_member_text(b, strlen(b), "kdf", &o, &off, &n, msg), ERR_OK);
	T_OK(n == strlen("{ \"n\":18446744073709551616,\"s\":\"\\ud83d\\ude00\" }"));
	T_OK(strncmp(b + off, "{ \"n\":18446744073709551616,", 27) == 0 && b[off + n - 1] == '}');
	T_EQ_INT(json_member_text(b, strlen(b), "nope", &o, &off, &n, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(json_member_text(b, strlen(b), "x", &o, &off, &n, msg), ERR_INVALID_REQUEST);
	b = "{\"kdf\":{\"e\":\"\\u0000\"}}";
	T_EQ_INT(json_member_text(b, strlen(b), "kdf", &o, &off, &n, msg), ERR_INVALID_REQUEST);
	T_OK(strstr(msg, "kdf: ") == msg);
	b = "{\"kdf\":{\"s\":\"\\udc00\"}}";
	T_EQ_INT(json_member_text(b, strlen(b), "kdf", &o, &off, &n, msg), ERR_INVALID_REQUEST);
	/* the depth an import allows below the document */
	const struct jstream_opts shallow = {0, 4096, 2};
	b = "{\"kdf\":{\"a\":[[1]]}}";
	T_EQ_INT(json_member_text(b, strlen(b), "kdf", &shallow, &off, &n, msg), ERR_INVALID_REQUEST);
	b = "{\"kdf\":{\"a\":[1]}}";
	T_EQ_INT(json_member_text(b, strlen(b), "kdf", &shallow, &off, &n, msg), ERR_OK);
}

static void test_fields(void)
{
	char msg[ERR_MSG_MAX];
	struct json_object *o = NULL;
	static const struct jfield f[] = {
		{"username", JT_STRING, 1}, {"n", JT_INT, 0}, {"flag", JT_BOOL, 0}, {"kdf", JT_OBJECT, 0},
	};
	T_EQ_INT(parse("{\"username\":\"al\",\"n\":3}", &o, msg), ERR_OK);
	T_EQ_INT(json_check_fields(o, f, 4, "body", msg), ERR_OK);
	json_object_put(o);

	parse("{\"username\":\"al\",\"extra\":3}", &o, msg);
	T_EQ_INT(json_check_fields(o, f, 4, "body", msg), ERR_INVALID_REQUEST);
	T_OK(strstr(msg, "extra") != NULL);
	json_object_put(o);

	parse("{\"n\":3}", &o, msg);
	T_EQ_INT(json_check_fields(o, f, 4, "body", msg), ERR_INVALID_REQUEST);
	T_OK(strstr(msg, "username") != NULL);
	json_object_put(o);

	parse("{\"username\":5}", &o, msg);
	T_EQ_INT(json_check_fields(o, f, 4, "body", msg), ERR_INVALID_REQUEST);
	T_OK(strstr(msg, "body.username") != NULL);
	json_object_put(o);

	parse("[1]", &o, msg);
	T_EQ_INT(json_check_fields(o, f, 4, "body", msg), ERR_INVALID_REQUEST);
	json_object_put(o);
}

static void test_getters(void)
{
	char msg[ERR_MSG_MAX];
	struct json_object *o = NULL;
	parse("{\"s\":\"hello\",\"i\":42,\"big\":99999999999999999999,\"b\":true,\"k\":\"AAECAw==\",\"bad\":\"AAE\"}",
	    &o, msg);
	const char *s = NULL;
	size_t n = 0;
	T_EQ_INT(json_get_str(o, "s", 1, 1, 10, &s, &n, msg), ERR_OK);
	T_EQ_STR(s, "hello");
	T_EQ_INT(n, 5);
	T_EQ_INT(json_get_str(o, "s", 1, 6, 10, &s, &n, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(json_get_str(o, "missing", 1, 1, 10, &s, &n, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(json_get_str(o, "missing", 0, 1, 10, &s, &n, msg), ERR_OK);
	T_EQ_INT(json_get_str(o, "i", 1, 1, 10, &s, &n, msg), ERR_INVALID_REQUEST);
	int64_t i = 0;
	T_EQ_INT(json_get_int(o, "i", 1, 0, 100, &i, msg), ERR_OK);
	T_EQ_INT(i, 42);
	T_EQ_INT(json_get_int(o, "i", 1, 0, 10, &i, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(json_get_int(o, "big", 1, 0, INT64_MAX, &i, msg), ERR_INVALID_REQUEST);
	int b = 0;
	T_EQ_INT(json_get_bool(o, "b", 1, &b, msg), ERR_OK);
	T_EQ_INT(b, 1);
	uint8_t *bytes = NULL;
	T_EQ_INT(json_get_b64(o, "k", 1, 1, 10, &bytes, &n, msg), ERR_OK);
	T_EQ_INT(n, 4);
	T_OK(bytes && bytes[3] == 3);
	free(bytes);
	T_EQ_INT(json_get_b64(o, "k", 1, 5, 10, &bytes, &n, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(json_get_b64(o, "k", 1, 1, 3, &bytes, &n, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(json_get_b64(o, "bad", 1, 1, 10, &bytes, &n, msg), ERR_INVALID_REQUEST);
	T_OK(strstr(msg, "bad") != NULL);
	T_OK(bytes == NULL);
	json_object_put(o);
}

static void test_writer(void)
{
	struct buf b;
	struct jw w;
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "s"); jw_str(&w, "a\"b\\c\n\x01");
	jw_key(&w, "n"); jw_int(&w, -5);
	jw_key(&w, "t"); jw_bool(&w, 1);
	jw_key(&w, "z"); jw_null(&w);
	jw_key(&w, "a"); jw_arr_begin(&w); jw_int(&w, 1); jw_int(&w, 2); jw_obj_begin(&w); jw_obj_end(&w); jw_arr_end(&w);
	jw_key(&w, "raw"); jw_raw(&w, "{\"x\":1}", 7);
	jw_key(&w, "b64"); jw_b64(&w, "\x00\x01\x02\x03", 4);
	jw_key(&w, "time"); jw_time(&w, 1795341845);
	jw_obj_end(&w);
	T_OK(!buf_error(&b));
	T_EQ_STR(b.p, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":-5,\"t\":true,\"z\":null,\"a\":[1,2,{}],"
	    "\"raw\":{\"x\":1},\"b64\":\"AAECAw==\",\"time\":\"2026-11-22T10:04:05Z\"}");
	/* what the writer writes, the parser reads back */
	char msg[ERR_MSG_MAX];
	struct json_object *o = NULL;
	T_EQ_INT(json_parse(b.p, b.len, &o, msg), ERR_OK);
	json_object_put(o);
	buf_free(&b);

	/* a large base64 value crosses the writer's slices exactly */
	size_t big = 200000;
	uint8_t *data = malloc(big);
	for (size_t k = 0; k < big; k++)
		data[k] = (uint8_t)(k * 7);
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_b64(&w, data, big);
	char *one = malloc(bsc_b64_enclen(big, BSC_B64_STD) + 1);
	bsc_b64_encode(data, big, one, bsc_b64_enclen(big, BSC_B64_STD) + 1, BSC_B64_STD);
	T_EQ_INT(b.len, strlen(one) + 2);
	T_OK(memcmp(b.p + 1, one, strlen(one)) == 0);
	free(one);
	free(data);
	buf_free(&b);
}

static void test_time(void)
{
	char t[21];
	json_time(0, t);
	T_EQ_STR(t, "1970-01-01T00:00:00Z");
	json_time(1795341845, t);
	T_EQ_STR(t, "2026-11-22T10:04:05Z");
	/* beyond RFC 3339's four-digit years: clamped, always terminated */
	memset(t, 'x', sizeof t);
	json_time(253402300800LL, t);
	T_EQ_STR(t, "9999-12-31T23:59:59Z");
	memset(t, 'x', sizeof t);
	json_time(-99999999999LL, t);
	T_EQ_STR(t, "0000-01-01T00:00:00Z");
}

static int sink_count;
static size_t sink_bytes;
static int count_sink(void *ctx, const char *d, size_t n)
{
	(void)ctx;
	(void)d;
	sink_count++;
	sink_bytes += n;
	return 0;
}

static void test_buf(void)
{
	struct buf b;
	buf_init(&b, 10);
	buf_adds(&b, "0123456789");
	T_OK(!buf_error(&b));
	buf_addc(&b, 'x');
	T_OK(buf_error(&b)); /* over the cap: sticky error */
	buf_adds(&b, "y");
	T_EQ_INT(b.len, 10);
	buf_free(&b);

	/* a sink keeps memory bounded however much goes through */
	buf_init(&b, 4096);
	buf_set_sink(&b, count_sink, NULL, 1024);
	for (int i = 0; i < 10000; i++)
		buf_adds(&b, "0123456789");
	buf_flush(&b);
	T_OK(!buf_error(&b));
	T_EQ_INT(sink_bytes, 100000);
	T_OK(b.cap <= 4096);
	T_OK(sink_count >= 90);
	buf_free(&b);
}

int main(void)
{
	T_RUN(test_parse);
	T_RUN(test_duplicates);
	T_RUN(test_value_cap);
	T_RUN(test_member_text);
	T_RUN(test_fields);
	T_RUN(test_getters);
	T_RUN(test_writer);
	T_RUN(test_buf);
	T_RUN(test_time);
	return t_done();
}
