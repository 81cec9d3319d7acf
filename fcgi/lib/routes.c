/*
 * routes.c: the table of route names of routes.h and its look-ups. Pure
 * data: no state, no allocation, safe from any thread.
 */
#include "routes.h"

#include <string.h>

const char *const routes_names[RN__MAX] = {
#define ROUTES_NAME_(id, name, flags) [id] = name,
	ROUTE_NAMES(ROUTES_NAME_)
#undef ROUTES_NAME_
};

static const unsigned routes_flag_tab[RN__MAX] = {
#define ROUTES_FLAGS_(id, name, flags) [id] = flags,
	ROUTE_NAMES(ROUTES_FLAGS_)
#undef ROUTES_FLAGS_
};

int routes_flags(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < RN__MAX; i++)
		if (strcmp(routes_names[i], name) == 0)
			return (int)routes_flag_tab[i];
	return -1;
}

int routes_is_route(const char *name)
{
	int f = routes_flags(name);
	return f >= 0 && !(f & (int)(RNF_LIMIT | RNF_PATTERN));
}
