#!/bin/sh
# The documentation stays true to the code: examples/moat.yaml loads, examples/notify.sh runs
# harmlessly, every man page renders without warnings, moatd.8 and moatctl.8 document exactly the
# options of `moatd --help` and `moatctl --help`, and moat.yaml.5 documents every key the loader
# prints for the example.
. "$MOAT_ROOT/tests/replay/lib.sh"

EX="$MOAT_ROOT/examples/moat.yaml"
NOTIFY="$MOAT_ROOT/examples/notify.sh"
MAN="$MOAT_ROOT/docs/man"

# ---- (a) the example configuration ----
$MOATD -t -c "$EX" 2>"$T/ex.err"
rc=$?
check "examples/moat.yaml loads with -t (rc $rc): $(cat "$T/ex.err")" [ $rc -eq 0 ]
$MOATD -t -v -c "$EX" >"$T/canon.yaml" 2>"$T/canon.err"
rc=$?
check "-t -v prints examples/moat.yaml (rc $rc)" sh -c "[ $rc -eq 0 ] && [ -s '$T/canon.yaml' ]"
$MOATD -t -c "$T/canon.yaml" 2>"$T/canon2.err"
rc=$?
check "its printed form loads back (rc $rc): $(cat "$T/canon2.err")" [ $rc -eq 0 ]

# ---- the example notify script: logs through logger(1), acts on nothing by default ----
mkdir -p "$T/bin"
cat >"$T/bin/logger" <<SH
#!/bin/sh
printf '%s\n' "\$*" >>"$T/syslog"
SH
chmod +x "$T/bin/logger"
check "examples/notify.sh is valid sh" sh -n "$NOTIFY"
printf 'IP: 198.51.100.5\nAttack type: syn_flood\n' |
	PATH="$T/bin:$PATH" sh "$NOTIFY" 198.51.100.5 incoming 50000 ban >"$T/notify.out" 2>&1
rc=$?
check "notify.sh ban exits 0 (rc $rc) $(cat "$T/notify.out")" [ $rc -eq 0 ]
check "notify.sh logs the ban: $(head -1 "$T/syslog" 2>/dev/null)" \
	grep -q "ban 198.51.100.5 incoming 50000" "$T/syslog"
check "notify.sh logs the details" grep -q "Attack type: syn_flood" "$T/syslog"
echo '{"event":"attack_end"}' |
	PATH="$T/bin:$PATH" sh "$NOTIFY" 2001:db8:5::7 outgoing 12 unban >/dev/null 2>&1
rc=$?
check "notify.sh unban exits 0 (rc $rc)" [ $rc -eq 0 ]
PATH="$T/bin:$PATH" sh "$NOTIFY" '198.51.100.5;id' incoming 1 ban </dev/null >/dev/null 2>&1
rc=$?
check "notify.sh refuses a malformed IP (rc $rc)" [ $rc -eq 2 ]

# ---- (b) every man page renders without warnings ----
if command -v man >/dev/null 2>&1; then
	renderer='man'
elif command -v groff >/dev/null 2>&1; then
	renderer='groff'
elif command -v mandoc >/dev/null 2>&1; then
	renderer='mandoc'
else
	renderer=
fi
render() { # FILE: the page as text on stdout
	case $renderer in
	man) MANWIDTH=80 man -l "$1" ;;
	groff) groff -man -Tutf8 "$1" ;;
	mandoc) mandoc -T utf8 "$1" ;;
	esac
}
warnings() { # FILE: every warning on stdout, nothing when the page is clean
	# shellcheck disable=SC2069 # stderr to the caller, the page itself to /dev/null
	case $renderer in
	man) MANWIDTH=80 man --warnings=w -l "$1" 2>&1 >/dev/null ;;
	groff) groff -man -Tutf8 -ww -z "$1" 2>&1 ;;
	mandoc) mandoc -T lint -W warning "$1" 2>&1 ;;
	esac
}
check "a man page renderer is installed (man, groff or mandoc; Debian: man-db)" [ -n "$renderer" ]
pages=0
for f in "$MAN"/*.1 "$MAN"/*.5 "$MAN"/*.8; do
	[ -f "$f" ] || continue
	pages=$((pages + 1))
	p=${f#"$MOAT_ROOT"/}
	[ -n "$renderer" ] || continue
	render "$f" >"$T/render" 2>&1
	rc=$?
	check "$p renders with $renderer (rc $rc)" sh -c "[ $rc -eq 0 ] && grep -q '^NAME' '$T/render'"
	warnings "$f" >"$T/warn"
	check "$p has no warnings: $(head -3 "$T/warn" | tr '\n' ' ')" [ ! -s "$T/warn" ]
	# .TH NAME SECTION matches the file name (moatd.8: .TH MOATD 8)
	base=$(basename "$f")
	th=$(sed -n 's/^\.TH \([^ ]*\) \([^ ]*\).*/\1.\2/p' "$f" | head -1 | tr '[:upper:]' '[:lower:]')
	check "$p: .TH says '$th'" [ "$th" = "$base" ]
done
check "docs/man holds the three pages (found $pages)" [ $pages -ge 3 ]

# ---- (c) the pages cover the code ----
# Roff source (stdin) as plain text: \- is -, font changes and \& go.
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\&//g'; }
# The tags of the .TP paragraphs (the line after each .TP) of section SECTION, or of every
# section when SECTION is empty, one word per line, macros and quotes dropped.
tags() { # FILE SECTION
	awk -v want="$2" '
		/^\.SH / { sec = $2; for (i = 3; i <= NF; i++) sec = sec " " $i; gsub(/"/, "", sec) }
		prev ~ /^\.TP/ && (want == "" || sec == want) { print }
		{ prev = $0 }' "$1" | plain | sed 's/^\.[A-Z]* //' | tr ' ,"()[];' '\n\n\n\n\n\n\n\n' |
		grep -v '^$' | sort -u
}

# Options: what --help lists, as "-c" and "--config" (one per line).
$MOATD --help >"$T/help" 2>&1
grep -E '^ +-' "$T/help" | sed -e 's/^ *//' -e 's/  .*//' | tr ' ,' '\n\n' |
	grep -E '^--?[A-Za-z0-9]' | sort -u >"$T/help-opts"
tags "$MAN/moatd.8" OPTIONS | grep -E '^--?[A-Za-z0-9]' >"$T/man-opts"
check "--help lists options: $(tr '\n' ' ' <"$T/help-opts")" grep -qx -- '--config' "$T/help-opts"
while read -r o; do
	check "moatd.8 OPTIONS documents $o" grep -qx -- "$o" "$T/man-opts"
done <"$T/help-opts"
while read -r o; do
	check "moatd.8 OPTIONS: $o is an option of moatd --help" grep -qx -- "$o" "$T/help-opts"
done <"$T/man-opts"

# Keys: the canonical print writes every top-level key (those that are off as "# key: none").
sed -n 's/^\(# \)\{0,1\}\([a-z_][a-z_]*\):.*/\2/p' "$T/canon.yaml" | sort -u >"$T/top-keys"
check "-t -v prints the top-level keys: $(tr '\n' ' ' <"$T/top-keys")" grep -qx networks "$T/top-keys"
tags "$MAN/moat.yaml.5" "TOP-LEVEL KEYS" >"$T/man-top"
while read -r k; do
	check "moat.yaml.5 TOP-LEVEL KEYS documents '$k'" grep -qx -- "$k" "$T/man-top"
done <"$T/top-keys"
# Every nested key of the example's printed form is documented too, as a tag somewhere.
sed -n 's/^ \{1,\}\(# \)\{0,1\}\(- \)\{0,1\}\([a-z_][a-z_]*\):.*/\3/p' "$T/canon.yaml" |
	sort -u >"$T/sub-keys"
tags "$MAN/moat.yaml.5" "" >"$T/man-all"
while read -r k; do
	check "moat.yaml.5 documents key '$k'" grep -qx -- "$k" "$T/man-all"
done <"$T/sub-keys"
# moatctl.8 documents exactly the options of `moatctl --help`, and its commands.
MOATCTL="${MOATCTL:-$MOAT_ROOT/build/asan/moatctl}"
$MOATCTL --help >"$T/ctl-help" 2>&1
grep -E '^ +-' "$T/ctl-help" | sed -e 's/^ *//' -e 's/  .*//' | tr ' ,' '\n\n' |
	grep -E '^--?[A-Za-z0-9]' | sort -u >"$T/ctl-help-opts"
tags "$MAN/moatctl.8" OPTIONS | grep -E '^--?[A-Za-z0-9]' >"$T/ctl-man-opts"
check "moatctl --help lists options: $(tr '\n' ' ' <"$T/ctl-help-opts")" \
	grep -qx -- '--socket' "$T/ctl-help-opts"
while read -r o; do
	check "moatctl.8 OPTIONS documents $o" grep -qx -- "$o" "$T/ctl-man-opts"
done <"$T/ctl-help-opts"
while read -r o; do
	check "moatctl.8 OPTIONS: $o is an option of moatctl --help" grep -qx -- "$o" "$T/ctl-help-opts"
done <"$T/ctl-man-opts"
tags "$MAN/moatctl.8" COMMANDS >"$T/ctl-man-cmds"
for c in status rule list add del help; do
	check "moatctl --help lists '$c'" grep -qw -- "$c" "$T/ctl-help"
	check "moatctl.8 COMMANDS documents '$c'" grep -qx -- "$c" "$T/ctl-man-cmds"
done
finish
