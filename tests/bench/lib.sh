# lib.sh: what the bench scripts of tests/bench share, sourced (never run)
# by each after it has cd'd to the top of the tree:
#     . tests/bench/lib.sh
# Figures (median, ratio), the records of a push body, bounded waits for a
# condition (a wall-clock deadline, never a count of sleeps), the stack
# started and waited for, a changed log level waited for, a handler's
# logged duration and one timed request, and a handler's peak RSS. Messages name the script ($0).
# What it must never do: change what a script measures or prints; a figure
# is computed here exactly as each script computed it before.

# median [DECIMALS]: the median of the numbers on stdin, one a line; with an
# even count the mean of the middle two, printed with DECIMALS (3) places
median() {
	sort -n | awk -v f="%.${1:-3}f\n" '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2]; else printf f, (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio A B: A / B with two decimals, or "n/a" when B is not above zero
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# records_json N PAYLOAD PREFIX: a push body of N new records PREFIX0..,
# each with PAYLOAD (base64)
records_json() {
	jq -cn --arg p "$2" --arg pre "$3" --argjson n "$1" \
		'{records: [range($n) | {id: "\($pre)\(.)", base_version: 0, payload: $p}]}'
}

# wait_until SECS WHAT CMD...: until CMD succeeds (bs_wait of
# tests/wait.bash, polling every 0.05 s: a handover's figure in live.sh is
# read after one); false with a message after SECS seconds of wall-clock
# time (a bound for a busy machine, not a timing)
. tests/wait.bash
BS_WAIT_POLL=0.05
wait_until() {
	local secs=$1 what=$2
	shift 2
	bs_wait "$secs" "$@" || { echo "${0##*/}: no $what within the bound" >&2; return 1; }
}

# healthy URL: the stack at URL answers its health check
healthy() { curl -sf -o /dev/null "$1/v1/health"; }

# start_bench_stack [VAR=VALUE...]: scripts/run.sh (nginx + handlers) on a
# random port with $work/bench.lua, its run dir, handlers' log and output
# under $work, the access log off, VAR=VALUE added to its environment; sets
# port, url and stack (run.sh's pid, in a session of its own) and waits for
# its health, 120 s at most: false, with run.sh's output, when it does not
# come up
start_bench_stack() {
	port=$((20000 + RANDOM % 20000))
	url=http://127.0.0.1:$port
	env BIN="$BIN" PORT="$port" BLINDSYNC_CONFIG="$work/bench.lua" RUN_DIR="$work/run" \
		HANDLER_LOG="$work/handlers.log" ACCESS_LOG=off "$@" setsid scripts/run.sh >"$work/run.log" 2>&1 &
	stack=$!
	wait_until 120 "health from the stack" healthy "$url" || { cat "$work/run.log" >&2; return 1; }
}

# logged_line LOG RID: true once LOG holds request RID's line (into $line)
# logged_ms LOG RID [SECS]: the duration a handler logged in LOG for
# request RID, waiting for its line up to SECS (30) seconds; "" if none
logged_line() { line=$(grep -F "req=$2 " "$1" | tail -1); [ -n "$line" ]; }
logged_ms() {
	local line=
	wait_until "${3:-30}" "log line of request $2" logged_line "$1" "$2" 2>/dev/null
	sed -n 's/.* [0-9][0-9][0-9] \([0-9.]*\)ms .*/\1/p' <<<"$line"
}

# timed_request LOG OUT SECS curl-args...: one request, its duration as the
# handler logged it in LOG (waited for up to SECS seconds) and curl's total;
# appends "server_ms curl_ms" to OUT.times and leaves the body in OUT.body.
# A request whose line does not come (a worker that has not reloaded the
# log level yet) is sent again, 3 times in all. False, saying why, unless
# 200 and a logged duration.
timed_request() {
	local log=$1 out=$2 secs=$3 res rid code total ms
	shift 3
	for _ in 1 2 3; do
		res=$(curl -s -o "$out.body" -w '%{http_code} %{time_total} %header{x-request-id}' "$@")
		read -r code total rid <<<"$res"
		[ "$code" = 200 ] || { echo "${0##*/}: ${out##*/} answered $code: $(head -c 300 "$out.body")" >&2; return 1; }
		ms=$(logged_ms "$log" "$rid" "$secs")
		if [ -n "$ms" ]; then
			echo "$ms $(awk -v t="$total" 'BEGIN { printf "%.3f", t * 1000 }')" >>"$out.times"
			return 0
		fi
	done
	echo "${0##*/}: no log line for the ${out##*/} requests (is the log level info?)" >&2
	return 1
}

# col_median COL FILE [DECIMALS]: the median of column COL of FILE's lines
col_median() { awk -v c="$1" '{ print $c }' "$2" | median "${3:-3}"; }

# kib_mib KIB: KiB as MiB with one decimal
kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# peak_rss HANDLER: the highest peak RSS (VmHWM, KiB) over the processes of
# one handler of the stack in $work/run
peak_rss() {
	local m=0 v p
	for p in $(pgrep -f -- "$work/run/$1.sock"); do
		v=$(awk '/VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -gt "$m" ] && m=$v
	done
	echo "$m"
}

# level_is LOG URL info|error: of 20 requests in a row to URL, all are
# logged in LOG (info) or none is (error): every worker has taken a changed
# log level (the handlers reload their config by themselves)
level_is() {
	local rid n=0
	for _ in $(seq 1 20); do
		rid=$(curl -s -o /dev/null -w '%header{x-request-id}' "$2/v1/health")
		grep -qF "req=$rid " "$1" && n=$((n + 1))
	done
	if [ "$3" = info ]; then [ "$n" -eq 20 ]; else [ "$n" -eq 0 ]; fi
}
# wait_level LOG URL LEVEL: until level_is, 120 s at most (false, saying so)
wait_level() { wait_until 120 "log level $3 taken by every worker" level_is "$@"; }

# cpu_ticks SID [PGDATA]: the CPU time (user + system, clock ticks) spent
# so far by the processes of session SID (a stack started with setsid:
# scripts/run.sh, nginx, the handlers), as "handlers nginx server", server
# being the PostgreSQL cluster of PGDATA (its postmaster and the postmaster's
# children), 0 without one. Processes that ended are not counted: the
# stack's and the cluster's live for the whole of a bench.
cpu_ticks() {
	local sid=$1 pm=0 f line rest comm h=0 n=0 s=0
	local -a v
	[ -n "${2:-}" ] && [ -f "$2/postmaster.pid" ] && pm=$(head -1 "$2/postmaster.pid")
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		comm=${line#*(}; comm=${comm%)*}
		rest=${line##*) }
		read -r -a v <<<"$rest"
		# v: 0 state, 1 ppid, 3 session, 11 utime, 12 stime
		if [ "$pm" != 0 ] && { [ "${f:6:-5}" = "$pm" ] || [ "${v[1]}" = "$pm" ]; }; then
			s=$((s + v[11] + v[12]))
		elif [ "${v[3]}" = "$sid" ]; then
			case "$comm" in
			nginx) n=$((n + v[11] + v[12])) ;;
			blindsync*) h=$((h + v[11] + v[12])) ;;
			esac
		fi
	done
	echo "$h $n $s"
}
