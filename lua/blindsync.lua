-- blindsync.lua: the blindsync server configuration.
--
-- Every handler reads this file at start, again when its mtime changes, and
-- on SIGHUP. Its path comes from $BLINDSYNC_CONFIG, else the compiled-in
-- default ($(SYSCONFDIR)/blindsync/blindsync.lua). Reference: docs/CONFIG.md
-- and blindsync.lua(5). Check a file with `blindsync-admin config check`.
--
-- This is Lua in a sandbox: the base, string, table and math libraries only
-- (no io, os, require, load, print, pcall). Use `local` for helper values:
-- any global that is not a key below is an error, as is a value of the wrong
-- type or out of range; the error names the key and the line. A bad file is
-- never replaced by the defaults: the handler refuses to start, and a reload
-- keeps the previous config.
--
-- Every value below is the built-in default, so this file changes nothing
-- until you edit it, and any key may be left out. A table you give is merged
-- key by key with its default (`limits = { max_push_records = 500 }` changes
-- only that limit); lists (trusted_proxies, rate_limits, cors.origins,
-- metrics.allow) and prelogin_fake_kdf replace their default as a whole.
-- KiB, MiB and GiB are predefined: 1 KiB = 1024 bytes. Sizes are bytes,
-- durations seconds unless the name says days.

-- The SQLite store (created on first start, mode 0600, as are the files
-- beside it). A relative path is relative to the handler's working directory.
-- Or a PostgreSQL URI, with no password in it (a password file instead):
--   database = "postgresql:///blindsync?host=/run/postgresql"
-- (docs/CONFIG.md: connections, max_connections, local files).
database = "var/blindsync.db"

-- The server secret (it keys the fake prelogin answers, among others);
-- created with mode 0600 if absent. Keep it with the database.
secret_file = "var/secret"

-- Who may create accounts: "open" (anyone), "invite" (only with an invite
-- made by blindsync-admin) or "closed" (nobody; existing accounts still work).
registration = "open"

-- Addresses (or CIDRs) of reverse proxies whose X-Forwarded-For is believed
-- when working out the client address for rate limits and metrics.allow,
-- e.g. { "10.0.0.0/8", "::1" }. Empty: REMOTE_ADDR is the client.
trusted_proxies = {}

-- Refuse requests that did not arrive over HTTPS (403 https_required).
-- Requests from loopback (127.0.0.0/8, ::1) are always allowed, so a local
-- test setup works over plain HTTP with this left on.
require_https = true

-- Lifetimes of the tokens login hands out, in seconds: access tokens
-- (60 to 86400) and refresh tokens (300 to 365 days).
tokens = { access_ttl = 900, refresh_ttl = 30 * 86400 }

-- The server hashes each auth_key again with PBKDF2-HMAC-SHA256 before
-- storing it: this many iterations (1000 to 10000000).
password_hash = { iterations = 100000 }

-- For an unknown username, prelogin answers with this KDF template plus a
-- salt derived from the secret and the name, so that prelogin does not reveal
-- which accounts exist. Make it look like what your clients register with:
-- the default is the shape every bs1 client (docs/CLIENT.md) registers.
-- Strings, integers and booleans only; "alg" is required; no "salt".
prelogin_fake_kdf = { alg = "argon2id", suite = "bs1", m = 65536, t = 3, p = 1 }

limits = {
  max_body_bytes   = 8 * MiB,   -- largest request body (1 KiB to 1 GiB); the routes
                                -- before login have small caps of their own
  max_record_bytes = 256 * KiB, -- largest record payload (at most max_body_bytes)
  max_push_records = 1000,      -- records per push (1 to 100000); any JSON body may hold
                                -- 8 x this + 1024 values (an empty object costs json-c ~0.8 KiB)
  max_pull_records = 1000,      -- records per pull page (1 to 100000)
  max_wait_seconds = 60,        -- longest long-poll wait of a pull (0 to 3600)
  max_import_bytes = 1 * GiB,   -- body limit of POST /v1/account/import only, a whole account's
                                -- export (1 KiB to 64 GiB); docs/API-transfer.md
  -- streamed bodies (backups, slots, import): no byte for this long, or
  -- under upload_min_rate bytes/s after it, ends the upload with 408
  upload_idle_seconds = 20,     -- 1 to 3600
  upload_min_rate  = 1 * KiB,   -- bytes per second (0: none; up to 1 GiB)
  -- uploads running for over a second per client address and per account,
  -- in each handler process; one more is 429 (1 to 256)
  max_uploads_per_ip = 2,
  max_uploads_per_account = 2,
}

-- Quotas. "default" applies to every account; other plans are assigned with
-- blindsync-admin, and each field a plan leaves out is taken from "default".
plans = {
  default = {
    bytes            = 10 * MiB, -- byte quota of the account (0 to 2^50)
    collections      = 100,      -- collections (1 to 1000000)
    backups          = 1,        -- backup slots (0 to 1000)
    backup_bytes     = 2 * MiB,  -- largest backup (1 byte to 1,000,000,000: one SQLite blob)
    min_backup_bytes = 32,       -- smallest backup or slot body (0 to backup_bytes),
                                 -- so that an empty upload cannot wipe a backup
    history_depth    = 10,       -- older versions kept per record (0 to 1000)
  },
  -- premium = { bytes = 1 * GiB, backups = 5 },
}

-- Token buckets shared by every worker: at most `limit` requests per `window`
-- seconds (1 to 31 days), counted per client address ("ip"), per account
-- ("account") or per username in the request ("username"). Routes:
-- account.register, account.prelogin, account.login, account.refresh,
-- account.recover (POST /v1/account/recover and .../complete), account.*
-- (the authenticated account routes), push, pull, status, collections,
-- records, backups.put, backups.get, slots.create, slots.put, slots.get,
-- export, import, live.ticket, live.connect (the WebSocket connections
-- blindsync-live refuses, per address only), users.keys (GET
-- /v1/users/{name}/keys, per account: no cheap way to list names), and * (every route). A list given here replaces
-- this whole list; {} turns rate limiting off.
rate_limits = {
  { route = "account.register", per = "ip",       limit = 5,   window = 3600 },
  { route = "account.login",    per = "ip",       limit = 10,  window = 60 },
  { route = "account.login",    per = "username", limit = 10,  window = 600 },
  { route = "account.recover",  per = "ip",       limit = 10,  window = 60 },
  { route = "account.recover",  per = "username", limit = 10,  window = 600 },
  { route = "slots.create",     per = "ip",       limit = 3,   window = 86400 },
  { route = "live.connect",     per = "ip",       limit = 60,  window = 60 },
  { route = "users.keys",       per = "account",  limit = 60,  window = 60 },
  { route = "*",                per = "account",  limit = 600, window = 60 },
}

-- Two-factor login (TOTP). issuer: the name an authenticator app shows
-- beside the account (the otpauth:// URI's issuer). After 5 wrong codes in a
-- row an account's codes are refused (429 with Retry-After) for
-- lockout_seconds (60 to 86400), on every worker and every node.
mfa = { issuer = "blindsync", lockout_seconds = 900 }

-- A deleted record stays as a tombstone this many days (1 to 36500) so that
-- devices learn of the deletion; a device last synced before that must
-- resync (410 resync_required).
tombstones = { keep_days = 90 }

-- Anonymous slots for clients without accounts (PUT/GET /v1/slots/{id}).
-- Off by default. max_bytes: largest slot (1 byte to 1,000,000,000); slots not
-- touched for expire_days (1 to 36500) are purged.
slots = { enabled = false, max_bytes = 1 * MiB, expire_days = 365 }

-- Browser origins allowed to call the API (CORS), e.g.
-- { "https://app.example.org" }, or { "*" } for any. Empty: no CORS headers.
cors = { origins = {} }

-- Log to stderr at this level and above: "error", "warn", "info", "debug".
log = { level = "info" }

-- Client addresses (or CIDRs) that may read GET /v1/metrics; others get 404.
metrics = { allow = { "127.0.0.1", "::1" } }

-- blindsync-live, the WebSocket program that tells devices the moment
-- something changes (docs/API-live.md). enabled: GET /v1/info says
-- "live": true (never on plain CGI) and `make run` and the systemd units
-- start it. socket: its unix socket, which the front end proxies /v1/live
-- to (--listen overrides it); port: also listen on 127.0.0.1:port (0: no
-- TCP). At most max_per_account sockets per account (1 to 100000) and
-- max_total in all (1 to 1000000), beyond which a socket is closed with
-- 4429; a ping every ping_seconds (5 to 300): a front end's read timeout
-- must be above it.
live = {
  enabled = true,
  socket = "/run/blindsync-live/live.sock",
  port = 0,
  max_per_account = 20,
  max_total = 10000,
  ping_seconds = 25,
}

-- Sharing a collection with other accounts (docs/API-sharing.md).
-- max_members: members per collection, the owner not counted (1 to
-- 100000); max_pending_invitations: invitations an account has out at once
-- (1 to 100000); invitation_days: an invitation expires after this many days
-- (0 to 365; 0 makes every invitation expire at once, a setting for tests).
sharing = {
  max_members = 100,
  max_pending_invitations = 50,
  invitation_days = 7,
}
