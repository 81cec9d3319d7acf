/*
 * valid.h: the name rules of api.md §1, checked on path parameters and body
 * fields before any query. Each returns 1 if valid, else 0.
 */
#ifndef BLINDSYNC_VALID_H
#define BLINDSYNC_VALID_H

#include <stddef.h>

/* Collection and backup names: 1-64 of A-Z a-z 0-9 _ - . ~, not starting with . or ~. */
int valid_name(const char *s);
/* Record ids: the same set, 1-128 characters. */
int valid_rid(const char *s);
/* Slot ids: exactly 64 lowercase hex characters. */
int valid_slot_id(const char *s);

#endif
