#!/bin/sh
# Installs the Debian packages moat needs to build and test, and nothing that is already there.
# Run as root on Debian 12 (make demo and make test call it). Every dependency is listed here and
# nowhere else; docs/ARCHITECTURE.md says why each is used.
set -e
PKGS="make gcc clang libclang-rt-14-dev llvm libpcap-dev libyaml-dev pkg-config
      iproute2 iputils-ping ethtool tcpdump jq procps psmisc man-db groff-base
      softflowd pmacct
      libbpf-dev bpftool xdp-tools nftables netsniff-ng hping3 curl python3
      bird2 gobgpd
      libmicrohttpd-dev libsqlite3-dev sqlite3 openssl chromium wrk prometheus"
# libbpf-dev, bpftool: the XDP scrubber (clang -target bpf, bpftool gen skeleton, libbpf loader);
# the BPF C uses <linux/bpf.h> from linux-libc-dev, so no kernel headers are needed.
# xdp-tools, nftables: the peers of the XDP benchmarks; netsniff-ng: trafgen, their generator.
# hping3 (the flood), curl (the client) and python3 (its http.server is the web server): the
# scrubber's end-to-end test and the demo. bird2, gobgpd: the real BGP peers of the BGP tests.
# libmicrohttpd-dev: the HTTP API and dashboard; libsqlite3-dev: the attack history (sqlite3, the
# shell, lets the tests look into it); openssl: the API's TLS test certificate; chromium: the
# dashboard's browser tests (driven by playwright-core from npm, see web/package.json); wrk: the
# API latency benchmark; prometheus: its promtool checks /metrics in the API test. Node.js and
# npm fetch uPlot and playwright-core from the npm registry: Debian's packages when the machine
# has no npm of its own.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "moat: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "moat: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# an old or empty package list makes installs fail on a fresh machine
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
	apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
}
# softflowd, pmacct, BIRD, GoBGP and Prometheus are run by the tests, never as services: a packaged daemon
# left running would export this machine's traffic somewhere or hold the BGP port
if command -v systemctl >/dev/null 2>&1; then
	for s in softflowd pmacctd nfacctd sfacctd bird gobgpd prometheus prometheus-node-exporter; do
		systemctl disable --now "$s" >/dev/null 2>&1 || true
	done
fi
exit 0
