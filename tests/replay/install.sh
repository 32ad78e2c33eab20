#!/bin/sh
# `make install` into a DESTDIR puts every file in place with the right mode, the systemd unit it
# writes has its paths filled in and passes `systemd-analyze verify` (where systemd-analyze is
# installed), the installed moatd accepts the installed example config, a second install keeps an
# edited config, and `make uninstall` removes what install put there except the config.
. "$MOAT_ROOT/tests/replay/lib.sh"

R="$T/root"
P=/usr/local
make -s -C "$MOAT_ROOT" install DESTDIR="$R" PREFIX=$P >"$T/make.out" 2>&1
rc=$?
check "make install DESTDIR=... PREFIX=$P (rc $rc): $(tail -3 "$T/make.out")" [ $rc -eq 0 ]

mode() { stat -c %a "$1" 2>/dev/null; }
has() { # FILE MODE: a regular file with that mode
	m=$(mode "$1")
	check "${1#"$R"} installed, mode ${m:-missing} (want $2)" sh -c "[ -f '$1' ] && [ '$m' = '$2' ]"
}
has "$R$P/sbin/moatd" 755
has "$R$P/sbin/moatctl" 755
has "$R$P/bin/moat-gen" 755
has "$R$P/share/man/man8/moatd.8" 644
has "$R$P/share/man/man8/moatctl.8" 644
has "$R$P/share/man/man5/moat.yaml.5" 644
has "$R$P/share/man/man1/moat-gen.1" 644
for f in moat.yaml notify.sh moat.yaml.md ARCHITECTURE.md api.md metrics.md; do
	has "$R$P/share/doc/moat/$f" 644
done
has "$R/etc/moat/moat.yaml" 640
has "$R/etc/moat/notify.sh" 755
has "$R/lib/systemd/system/moatd.service" 644
# every page in docs/man is installed
for f in "$MOAT_ROOT"/docs/man/*.[0-9]; do
	b=$(basename "$f")
	check "docs/man/$b is installed in man${b##*.}" [ -f "$R$P/share/man/man${b##*.}/$b" ]
done
check "the installed moatd is build/release/moatd" cmp -s "$R$P/sbin/moatd" "$MOAT_ROOT/build/release/moatd"
check "the installed example is examples/moat.yaml" cmp -s "$R/etc/moat/moat.yaml" "$MOAT_ROOT/examples/moat.yaml"

# ---- the unit ----
U="$R/lib/systemd/system/moatd.service"
left=$(grep -n '@[A-Z_]*@' "$U" 2>/dev/null)
check "the unit has no @placeholders@ left: $left" [ -z "$left" ]
exec_start=$(sed -n 's/^ExecStart=//p' "$U")
check "ExecStart=$exec_start runs the installed moatd on /etc/moat/moat.yaml" \
	[ "$exec_start" = "$P/sbin/moatd -c /etc/moat/moat.yaml" ]
check "the unit runs moatd in the foreground (Type=simple)" grep -qx 'Type=simple' "$U"
# shellcheck disable=SC2016 # $MAINPID is systemd's, not ours
check "the unit reloads with SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$U"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$U")
check "the capability bounding set is CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_NET_BIND_SERVICE: $caps" \
	[ "$caps" = "CAP_NET_RAW CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_NET_BIND_SERVICE" ]
for d in RuntimeDirectory=moat StateDirectory=moat LogsDirectory=moat ReadWritePaths=/sys/fs/bpf \
	NoNewPrivileges=yes ProtectSystem=strict LimitMEMLOCK=infinity; do
	check "the unit has $d" grep -qx "$d" "$U"
done
# a non-default PREFIX and SYSCONFDIR reach the unit too
make -s -C "$MOAT_ROOT" install DESTDIR="$T/root2" PREFIX=/opt/moat SYSCONFDIR=/etc/opt >"$T/make2.out" 2>&1
rc=$?
exec_start=$(sed -n 's/^ExecStart=//p' "$T/root2/lib/systemd/system/moatd.service" 2>/dev/null)
check "PREFIX=/opt/moat SYSCONFDIR=/etc/opt: rc $rc, ExecStart=$exec_start" \
	sh -c "[ $rc -eq 0 ] && [ '$exec_start' = '/opt/moat/sbin/moatd -c /etc/opt/moat/moat.yaml' ] &&
		[ -f '$T/root2/opt/moat/sbin/moatd' ] && [ -f '$T/root2/etc/opt/moat/moat.yaml' ]"

# systemd-analyze verify: the executables must exist, so on a copy whose paths point into DESTDIR;
# Documentation= is checked with man against the installed pages.
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|$P/sbin/|$R$P/sbin/|g" "$U" >"$T/moatd.service"
	MANPATH="$R$P/share/man" SYSTEMD_LOG_COLOR=0 systemd-analyze verify "$T/moatd.service" \
		>"$T/verify.out" 2>&1
	rc=$?
	check "systemd-analyze verify (rc $rc): $(head -5 "$T/verify.out" | tr '\n' ' ')" \
		sh -c "[ $rc -eq 0 ] && [ ! -s '$T/verify.out' ]"
else
	echo "note: systemd-analyze is not installed: the unit was not verified (only its contents were checked)"
fi

# ---- the installed moatd accepts the installed config ----
"$R$P/sbin/moatd" -t -c "$R/etc/moat/moat.yaml" >"$T/t.out" 2>&1
rc=$?
check "installed moatd -t accepts the installed moat.yaml (rc $rc): $(cat "$T/t.out")" [ $rc -eq 0 ]
$MOATD -t -c "$R/etc/moat/moat.yaml" >"$T/t2.out" 2>&1
rc=$?
check "\$MOATD -t accepts it too (rc $rc): $(cat "$T/t2.out")" [ $rc -eq 0 ]
script=$(sed -n 's/^  script: //p' "$R/etc/moat/moat.yaml")
check "the config's notify script $script is installed, executable" [ -x "$R$script" ]
check "the installed notify.sh is valid sh" sh -n "$R/etc/moat/notify.sh"

# ---- a second install keeps the edited config; uninstall keeps it too ----
echo "# edited" >>"$R/etc/moat/moat.yaml"
make -s -C "$MOAT_ROOT" install DESTDIR="$R" PREFIX=$P >"$T/make3.out" 2>&1
rc=$?
check "install again (rc $rc) leaves the edited moat.yaml alone" \
	sh -c "[ $rc -eq 0 ] && tail -1 '$R/etc/moat/moat.yaml' | grep -qx '# edited'"
make -s -C "$MOAT_ROOT" uninstall DESTDIR="$R" PREFIX=$P >"$T/make4.out" 2>&1
rc=$?
rest=$(cd "$R" && find . -type f | sort | tr '\n' ' ')
check "uninstall (rc $rc) leaves only the config: $rest" \
	sh -c "[ $rc -eq 0 ] && [ '$rest' = './etc/moat/moat.yaml ./etc/moat/notify.sh ' ]"

finish
