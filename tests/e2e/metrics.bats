#!/usr/bin/env bats
# GET /v1/metrics through nginx: Prometheus text, counts shared by every
# worker process, rate-limit refusals, the long-poll gauge, store gauges.
load ../lib
load account_helpers

setup_file() {
	bs_setup_stack 'rate_limits = { { route = "status", per = "ip", limit = 3, window = 3600 } }' \
		'password_hash = { iterations = 1000 }'
}
teardown_file() { bs_stop; }

metric() { # NAME{labels} -> value
	curl -s "$BS_URL/v1/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
# gauge_at_least N: the long-poll gauge is N or more
gauge_at_least() { [ "$(metric blindsync_longpolls_waiting)" -ge "$1" ] 2>/dev/null; }

@test "metrics: Prometheus text with the headers of every response" {
	req GET /v1/metrics
	assert_equal "$status" 200
	assert_equal "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8"
	assert_common_headers
	[[ "$body" == *"# TYPE blindsync_requests_total counter"* ]]
	[[ "$body" == *"# TYPE blindsync_request_duration_seconds histogram"* ]]
	[[ "$body" == *"blindsync_store_bytes "* ]]
	[[ "$body" == *"blindsync_accounts 0"* ]]
}

@test "request counts by route and status add up over both worker processes" {
	before=$(metric 'blindsync_requests_total{route="status.health",status="200"}')
	for i in $(seq 1 40); do curl -s -o /dev/null "$BS_URL/v1/health"; done
	after=$(metric 'blindsync_requests_total{route="status.health",status="200"}')
	assert_equal "$((after - ${before:-0}))" 40
	# and the requests were served by more than one process (mod_fcgid and
	# CGI have no worker processes: there the counts add up all the same)
	if bs_front_supports worker-processes; then
		[ "$(grep 'status.health 200' "$BS_LOG" | grep -o 'blindsync-status\[[0-9]*\]' | sort -u | wc -l)" -ge 2 ]
	fi
	count=$(metric 'blindsync_request_duration_seconds_count{route="status.health"}')
	inf=$(metric 'blindsync_request_duration_seconds_bucket{route="status.health",le="+Inf"}')
	assert_equal "$count" "$inf"
	[ "$count" -ge 40 ]
}

@test "404s and rate-limit refusals are counted" {
	curl -s -o /dev/null "$BS_URL/v1/no-such-route"
	[ "$(metric 'blindsync_requests_total{route="-",status="404"}')" -ge 1 ]
	# GET /v1/status is limited per address before the token is even checked
	for i in 1 2 3 4 5; do curl -s -o /dev/null "$BS_URL/v1/status"; done
	[ "$(metric 'blindsync_requests_total{route="status",status="429"}')" -ge 2 ]
	[ "$(metric blindsync_rate_limited_total)" -ge 2 ]
}

@test "the long-poll gauge counts waiting requests and goes back to 0" {
	new_account
	# long-polls on pulls (the status route is rate-limited in this file)
	ajreq POST /v1/collections/c/push "$ACCESS" '{"records":[]}'
	curl -s -o /dev/null -H "Authorization: Bearer $ACCESS" "$BS_URL/v1/collections/c/pull?wait=30" &
	curl -s -o /dev/null -H "Authorization: Bearer $ACCESS" "$BS_URL/v1/collections/c/pull?wait=30" &
	# until they wait (no clock: on a loaded machine they arrive late)
	if [ "$(bs_front)" = apache-fcgid ]; then
		# mod_fcgid may queue the second request for a busy process before it
		# spawns another: at least one waits (docs/DEPLOY-apache.md)
		bs_wait 20 gauge_at_least 1 || true
		[ "$(metric blindsync_longpolls_waiting)" -ge 1 ]
	else
		bs_wait 20 gauge_at_least 2 || true
		assert_equal "$(metric blindsync_longpolls_waiting)" 2
	fi
	assert_equal "$(metric blindsync_accounts)" 1
	# a push ends both
	ajreq POST /v1/collections/c/push "$ACCESS" '{"records":[{"id":"a","base_version":0,"payload":"AAAA"}]}'
	assert_equal "$status" 200
	wait
	assert_equal "$(metric blindsync_longpolls_waiting)" 0
}
