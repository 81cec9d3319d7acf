/*
 * hello.c: blindsync-hello, the benchmark's FastCGI ceiling: the same
 * threads-and-accept-loop shape as the handlers, answering a fixed body with
 * no config, store or parsing. Never installed; `make bench` only.
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int listen_fd;

static void *loop(void *arg)
{
	FCGX_Request r;
	(void)arg;
	FCGX_InitRequest(&r, listen_fd, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"ok\": true}", r.out);
		FCGX_Finish_r(&r);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 8;
	const char *addr = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			addr = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
	}
	if (threads < 1 || threads > 256)
		threads = 8;
	FCGX_Init();
	if (addr) {
		unlink(addr);
		listen_fd = FCGX_OpenSocket(addr, 1024);
		if (listen_fd < 0) {
			perror("listen");
			return 1;
		}
	}
	pthread_t t[256];
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, loop, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
