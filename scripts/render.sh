#!/bin/sh
# render.sh: the one renderer of the config templates (nginx/*.in,
# apache/*.in, scripts/systemd/*.in), used by run.sh and install.sh.
#   render.sh TEMPLATE FROM=TO...
# writes TEMPLATE to stdout with every FROM (e.g. @RUN@) replaced by TO, the
# pairs applied in order, each over the text the earlier ones left (so a
# longer FROM such as "@RUN@/x.conf" goes before "@RUN@"). FROM ends at the
# first '='; both are literal text: no character of a path or a value is
# special, unlike a sed expression. Never writes a partial file itself:
# callers redirect into the file they render.
set -eu
[ $# -ge 1 ] || { echo "usage: render.sh TEMPLATE FROM=TO..." >&2; exit 2; }
[ -r "$1" ] || { echo "render.sh: cannot read $1" >&2; exit 1; }
exec awk '
BEGIN {
	n = 0
	for (i = 2; i < ARGC; i++) {
		k = index(ARGV[i], "=")
		if (k < 2) {
			print "render.sh: not FROM=TO: " ARGV[i] > "/dev/stderr"
			exit 2
		}
		from[++n] = substr(ARGV[i], 1, k - 1)
		to[n] = substr(ARGV[i], k + 1)
		delete ARGV[i]
	}
}
{
	line = $0
	for (j = 1; j <= n; j++) {
		out = ""
		while ((p = index(line, from[j])) > 0) {
			out = out substr(line, 1, p - 1) to[j]
			line = substr(line, p + length(from[j]))
		}
		line = out line
	}
	print line
}
' "$@"
