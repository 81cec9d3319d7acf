/*
 * err.c: the table behind err.h. One row per enum value, in enum order.
 */
#include "err.h"

struct err_row {
	int status;
	const char *code;
	const char *message;
};

static const struct err_row rows[] = {
	[ERR_OK] = {200, "ok", "OK."},
	[ERR_INVALID_JSON] = {400, "invalid_json", "The request body is not valid JSON."},
	[ERR_INVALID_REQUEST] = {400, "invalid_request", "The request is not valid."},
	[ERR_TOO_SMALL] = {400, "too_small", "The body is smaller than the minimum size."},
	[ERR_UNAUTHORIZED] = {401, "unauthorized", "A valid access token is required."},
	[ERR_INVALID_CREDENTIALS] = {401, "invalid_credentials", "Unknown username or wrong key."},
	[ERR_TOKEN_EXPIRED] = {401, "token_expired", "The token has expired."},
	[ERR_TOKEN_REUSED] = {401, "token_reused", "The refresh token was already used; the device's tokens are revoked."},
	[ERR_MFA_REQUIRED] = {401, "mfa_required", "This account asks for a second factor: send totp or recovery_code."},
	[ERR_INVALID_MFA] = {401, "invalid_mfa", "The code is not valid."},
	[ERR_FORBIDDEN] = {403, "forbidden", "This request is not allowed."},
	[ERR_REGISTRATION_CLOSED] = {403, "registration_closed", "Registration is closed on this server."},
	[ERR_INVALID_INVITE] = {403, "invalid_invite", "The invite code is not valid."},
	[ERR_BAD_SLOT_KEY] = {403, "bad_slot_key", "The slot key does not match."},
	[ERR_BACKUP_LIMIT] = {403, "backup_limit", "The account has no free backup slot."},
	[ERR_COLLECTION_LIMIT] = {403, "collection_limit", "The account has reached its number of collections."},
	[ERR_MEMBER_LIMIT] = {403, "member_limit", "The collection has reached its number of members."},
	[ERR_INVITATION_LIMIT] = {403, "invitation_limit", "The account has reached its number of pending invitations."},
	[ERR_HTTPS_REQUIRED] = {403, "https_required", "This server accepts requests over HTTPS only."},
	[ERR_NOT_FOUND] = {404, "not_found", "Not found."},
	[ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed", "This method is not allowed on this resource."},
	[ERR_REQUEST_TIMEOUT] = {408, "request_timeout", "The request body did not arrive in time."},
	[ERR_CONFLICT] = {409, "conflict", "The request conflicts with the current state."},
	[ERR_USERNAME_TAKEN] = {409, "username_taken", "This username is taken."},
	[ERR_RESYNC_REQUIRED] = {410, "resync_required", "The cursor is older than the purged tombstones; pull from 0."},
	[ERR_LENGTH_REQUIRED] = {411, "length_required", "Content-Length is required."},
	[ERR_PRECONDITION_FAILED] = {412, "precondition_failed", "The precondition did not match the current version."},
	[ERR_BODY_TOO_LARGE] = {413, "body_too_large", "The request body is too large."},
	[ERR_RECORD_TOO_LARGE] = {413, "record_too_large", "A record is larger than the maximum."},
	[ERR_TOO_MANY_RECORDS] = {413, "too_many_records", "Too many records in one request."},
	[ERR_UNSUPPORTED_MEDIA] = {415, "unsupported_media_type", "Unsupported Content-Type."},
	[ERR_PRECONDITION_REQUIRED] = {428, "precondition_required", "This overwrite needs an If-Match header."},
	[ERR_RATE_LIMITED] = {429, "rate_limited", "Too many requests; retry later."},
	[ERR_INTERNAL] = {500, "internal", "Internal server error."},
	[ERR_UNAVAILABLE] = {503, "unavailable", "The service is temporarily unavailable; retry later."},
	[ERR_QUOTA_EXCEEDED] = {507, "quota_exceeded", "The write would exceed the account's quota."},
};

_Static_assert(sizeof rows / sizeof rows[0] == ERR__MAX, "err table out of step with enum err");

static const struct err_row *row(enum err e)
{
	if ((unsigned)e >= ERR__MAX)
		return &rows[ERR_INTERNAL];
	return &rows[e];
}

int err_status(enum err e) { return row(e)->status; }
const char *err_code(enum err e) { return row(e)->code; }
const char *err_message(enum err e) { return row(e)->message; }
