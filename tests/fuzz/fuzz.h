/*
 * fuzz.h: the one entry point every tests/fuzz/fuzz_*.c target defines.
 *
 * A target is linked either with replay.c (a plain program that replays the
 * committed corpus, run by `make unit`) or, compiled with
 * -DBLINDSYNC_LIBFUZZER -fsanitize=fuzzer, with libFuzzer's own main. A
 * target signals a bug by crashing (abort()), never by its return value,
 * which must be 0.
 */
#ifndef BLINDSYNC_FUZZ_H
#define BLINDSYNC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run one input. data[0..size) is borrowed for the call only; return 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
