/*
 * fuzz_config.c: fuzz target for the config loader (config.c): Lua text in,
 * a typed struct config or a one-line error out.
 *
 * The input is the text of a config file, given to config_load() through a
 * memfd (/proc/self/fd/N), so the loader runs exactly as on a real file:
 * its size cap, the BOM and "#" line handling, the sandbox with its memory
 * allocator and instruction limit, the key tables and range checks.
 *
 * Properties (a violation is an abort()):
 *   - config_load() returns 0 or -1 and never crashes, leaks or hangs (the
 *     instruction limit bounds any loop; libFuzzer's -timeout catches a miss);
 *   - on -1 the error is one non-empty line;
 *   - on 0, config_print() of the result loads back, and printing that
 *     gives the same text (the printer and the loader agree on every key).
 *
 * Must never: touch a file other than its own memfds.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

/* Larger inputs only cost time (the loader's own cap is far above). */
#define FUZZ_CONFIG_MAX (64 * 1024)

/* Write data[0..n) to a new memfd; its /proc path into path. Returns the fd or -1. */
static int memfile(const void *data, size_t n, char *path, size_t pathlen)
{
	const char *p = data;
	ssize_t w;
	int fd;

	if ((fd = memfd_create("blindsync-fuzz-config", MFD_CLOEXEC)) == -1)
		return -1;
	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* config_print() of c into a malloc'd string (caller frees); the first line,
 * which names the file, is cut. NULL if memory runs out. */
static char *printed(const struct config *c)
{
	char *text = NULL, *nl;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL)
		return NULL;
	if (config_print(c, fp) != 0)
		abort(); /* a memory stream does not fail to write */
	fclose(fp);
	if ((nl = strchr(text, '\n')) != NULL)
		memmove(text, nl + 1, strlen(nl + 1) + 1);
	return text;
}

/* An error message must be one non-empty line. */
static void check_error(const char *err)
{
	if (err[0] == '\0' || strchr(err, '\n') != NULL || strchr(err, '\r') != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c1, c2; /* large: not on the stack */
	static int quiet;
	char path1[64], path2[64], err[1024];
	char *text1 = NULL, *text2 = NULL;
	int fd1 = -1, fd2 = -1;

	if (size > FUZZ_CONFIG_MAX)
		return 0;
	if (!quiet) {
		log_set_level(LOG_ERROR);
		quiet = 1;
	}
	if ((fd1 = memfile(data, size, path1, sizeof path1)) == -1)
		goto out;
	err[0] = '\0';
	if (config_load(path1, &c1, err, sizeof err) != 0) {
		check_error(err);
		goto out;
	}
	if ((text1 = printed(&c1)) == NULL)
		goto out;
	if ((fd2 = memfile(text1, strlen(text1), path2, sizeof path2)) == -1)
		goto out;
	if (config_load(path2, &c2, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_config: the printed config does not load: %s\n", err);
		abort();
	}
	if ((text2 = printed(&c2)) == NULL)
		goto out;
	if (strcmp(text1, text2) != 0) {
		fprintf(stderr, "fuzz_config: printing the reloaded config differs\n");
		abort();
	}
out:
	free(text1);
	free(text2);
	if (fd1 != -1)
		close(fd1);
	if (fd2 != -1)
		close(fd2);
	return 0;
}
