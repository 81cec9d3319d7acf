/*
 * shm.c: shared file mappings (see shm.h).
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *shm_map(const char *path, size_t size, const char *what, char *errbuf, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    ((size_t)st.st_size < size && ftruncate(fd, (off_t)size) != 0)) {
		snprintf(errbuf, errlen, "%s: cannot size the %s: %s", path, what, strerror(errno));
		close(fd);
		return NULL;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(errbuf, errlen, "%s: cannot map the %s: %s", path, what, strerror(errno));
		return NULL;
	}
	return p;
}
