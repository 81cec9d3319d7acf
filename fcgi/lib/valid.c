/*
 * valid.c: name validators (api.md §1). Pure functions on NUL-terminated text.
 */
#include "valid.h"

#include <string.h>

static int name_chars(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || s[0] == '.' || s[0] == '~')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '-' || c == '.' || c == '~'))
			return 0;
	}
	return 1;
}

int valid_name(const char *s) { return name_chars(s, 64); }
int valid_rid(const char *s) { return name_chars(s, 128); }

int valid_slot_id(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
