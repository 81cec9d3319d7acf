/*
 * routes.h: the one list of route names.
 *
 * Every name a route row of a handler program carries (serve.h struct
 * route), every name a rate rule of the config may give (config.c, limit.c,
 * docs/CONFIG.md) and every label of the request log and of the metrics
 * comes from ROUTE_NAMES below, so that a name cannot be spelt two ways.
 * serve_main() refuses to start a handler whose table names a route that is
 * not listed (`-n` too), and the config refuses a rate rule that names
 * anything but the first part of the list.
 *
 * The scheme: "<group>.<action>" for the routes of a group that has several
 * ("account.login", "backups.put"), the bare group where one name covers the
 * group ("push", "pull", "collections", "records", "status", "export").
 * Reads and writes of one resource share a name when they share a limit
 * ("backups.put" is PUT and DELETE). The names are part of the config file
 * format and of the metrics: never rename one, add.
 *
 * Flags:
 *   RNF_PUBLIC   served before a token exists; "account.*" never matches it
 *   RNF_LIMIT    a rate-limit name only, charged by a handler on top of its
 *                route's own (no route row may carry it)
 *   RNF_PATTERN  a pattern of rate rules ("*", "account.*"), never a route
 */
#ifndef BLINDSYNC_ROUTES_H
#define BLINDSYNC_ROUTES_H

#define RNF_PUBLIC  0x1u
#define RNF_LIMIT   0x2u
#define RNF_PATTERN 0x4u

/*
 * X(enum id, "name", flags). Two parts, one list: first the names a rate
 * rule of the config may give, in the order the config's error message
 * lists them; then the routes that only the patterns reach ("account.*"
 * covers the authenticated account routes, "*" every route).
 */
#define ROUTE_NAMES_RATE(X) \
	X(RN_ACCOUNT_REGISTER,      "account.register",      RNF_PUBLIC) \
	X(RN_ACCOUNT_PRELOGIN,      "account.prelogin",      RNF_PUBLIC) \
	X(RN_ACCOUNT_LOGIN,         "account.login",         RNF_PUBLIC) \
	X(RN_ACCOUNT_REFRESH,       "account.refresh",       RNF_PUBLIC) \
	X(RN_ACCOUNT_RECOVER,       "account.recover",       RNF_PUBLIC) \
	X(RN_ACCOUNT_ANY,           "account.*",             RNF_PATTERN) \
	X(RN_PUSH,                  "push",                  0) \
	X(RN_PULL,                  "pull",                  0) \
	X(RN_STATUS,                "status",                0) \
	X(RN_COLLECTIONS,           "collections",           0) \
	X(RN_RECORDS,               "records",               0) \
	X(RN_BACKUPS_PUT,           "backups.put",           0) \
	X(RN_BACKUPS_GET,           "backups.get",           0) \
	X(RN_SLOTS_CREATE,          "slots.create",          RNF_PUBLIC | RNF_LIMIT) \
	X(RN_SLOTS_PUT,             "slots.put",             RNF_PUBLIC) \
	X(RN_SLOTS_GET,             "slots.get",             RNF_PUBLIC) \
	X(RN_EXPORT,                "export",                0) \
	X(RN_IMPORT,                "import",                0) \
	X(RN_LIVE_TICKET,           "live.ticket",           0) \
	X(RN_LIVE_CONNECT,          "live.connect",          RNF_PUBLIC | RNF_LIMIT) \
	X(RN_USERS_KEYS,            "users.keys",            0) \
	X(RN_ANY,                   "*",                     RNF_PATTERN)

#define ROUTE_NAMES_OTHER(X) \
	X(RN_ACCOUNT_LOGOUT,        "account.logout",        0) \
	X(RN_ACCOUNT_GET,           "account.get",           0) \
	X(RN_ACCOUNT_DELETE,        "account.delete",        0) \
	X(RN_ACCOUNT_DEVICES,       "account.devices",       0) \
	X(RN_ACCOUNT_DEVICE_DELETE, "account.device_delete", 0) \
	X(RN_ACCOUNT_KEYRING_GET,   "account.keyring_get",   0) \
	X(RN_ACCOUNT_KEYRING_PUT,   "account.keyring_put",   0) \
	X(RN_ACCOUNT_PASSWORD,      "account.password",      0) \
	X(RN_ACCOUNT_ACTIVITY,      "account.activity",      0) \
	X(RN_ACCOUNT_MFA,           "account.mfa",           0) \
	X(RN_ACCOUNT_RECOVERY,      "account.recovery",      0) \
	X(RN_ACCOUNT_KEYS,          "account.keys",          0) \
	X(RN_INVITATIONS,           "invitations",           0) \
	X(RN_SHARING_INVITATIONS,   "sharing.invitations",   0) \
	X(RN_SHARING_MEMBERS,       "sharing.members",       0) \
	X(RN_SHARING_ROTATE,        "sharing.rotate",        0) \
	X(RN_SHARING_GRANT,         "sharing.grant",         0) \
	X(RN_STATUS_INFO,           "status.info",           RNF_PUBLIC) \
	X(RN_STATUS_HEALTH,         "status.health",         RNF_PUBLIC) \
	X(RN_METRICS,               "metrics",               RNF_PUBLIC)

#define ROUTE_NAMES(X) ROUTE_NAMES_RATE(X) ROUTE_NAMES_OTHER(X)

enum route_name {
#define ROUTES_ENUM_(id, name, flags) id,
	ROUTE_NAMES(ROUTES_ENUM_)
#undef ROUTES_ENUM_
	RN__MAX
};

/* How many names a rate rule may give: routes_names[0..RN__RATE). */
enum {
#define ROUTES_COUNT_(id, name, flags) + 1
	RN__RATE = 0 ROUTE_NAMES_RATE(ROUTES_COUNT_)
#undef ROUTES_COUNT_
};

/* Every name of the list, in its order (RN__MAX of them): the config's table of rate-limit names. */
extern const char *const routes_names[RN__MAX];

/* The RNF_* flags of `name`, or -1 if the list does not hold it (NULL included). */
int routes_flags(const char *name);

/* 1 if `name` may be carried by a route row: listed, and neither RNF_LIMIT nor RNF_PATTERN. */
int routes_is_route(const char *name);

#endif
