/*
 * deadline.h: the one way to say "ms milliseconds from now" to a pthread
 * wait with a deadline: on CLOCK_MONOTONIC for pthread_mutex_clocklock and
 * pthread_cond_clockwait (a wall-clock step neither shortens nor stretches
 * it), on CLOCK_REALTIME for pthread_cond_timedwait.
 *
 * Must never: be used for a time that is logged or stored (limit_now_ms).
 */
#ifndef BLINDSYNC_DEADLINE_H
#define BLINDSYNC_DEADLINE_H

#include <stdint.h>
#include <time.h>

/* now on clock plus ms (>= 0), normalised; 0, or -1 if the clock cannot be read (errno) */
static inline int deadline_in(clockid_t clock, int64_t ms, struct timespec *out)
{
	if (clock_gettime(clock, out) != 0)
		return -1;
	out->tv_sec += (time_t)(ms / 1000);
	out->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
	return 0;
}

#endif
