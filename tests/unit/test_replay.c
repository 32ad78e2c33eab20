/* Replay of a capture holding malformed frames among good ones: each bad frame is counted under
 * its reason, the good ones are accounted, nothing crashes, and an attack hidden among garbage is
 * still detected. */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <unistd.h>

#include "capture/capture.h"
#include "core/conf.h"
#include "detect/detect.h"
#include "t.h"

static int n_start;

static void on_event(void *arg, const struct event *e)
{
	(void)arg;
	if (e->kind == EV_ATTACK_START)
		n_start++;
}

/* A UDP/IPv4 frame 198.51.100.5 <- 192.0.2.1, 100 bytes of IP. */
static size_t good_frame(uint8_t *b)
{
	static const uint8_t hdr[] = {
	    0x02, 0,	0,    0,    0,	 1,  0x02, 0, 0,  0,  0, 2, 0x08, 0x00, /* ethernet */
	    0x45, 0,	0,    100,  0,	 1,  0,	   0, 64, 17, 0, 0, 192,  0,
	    2,	  1,	198,  51,   100, 5,	      /* ipv4 */
	    0x13, 0x88, 0x00, 0x35, 0,	 80, 0,	   0, /* udp */
	};
	memset(b, 0, 114);
	memcpy(b, hdr, sizeof(hdr));
	return 114;
}

static void put(pcap_dumper_t *d, uint64_t ts_us, const uint8_t *b, size_t cap, size_t wire)
{
	struct pcap_pkthdr h = {{(time_t)(ts_us / 1000000), (suseconds_t)(ts_us % 1000000)},
				(bpf_u_int32)cap,
				(bpf_u_int32)wire};
	pcap_dump((u_char *)d, &h, b);
}

/* pcapng (the format Wireshark writes) by hand: libpcap reads it but cannot write it. Section
 * header, one Ethernet interface with nanosecond timestamps, then enhanced packet blocks. */
static void ng_block(FILE *f, uint32_t type, const void *body, uint32_t len)
{
	uint32_t pad = (4 - len % 4) % 4, total = 12 + len + pad, zero = 0;
	fwrite(&type, 4, 1, f);
	fwrite(&total, 4, 1, f);
	fwrite(body, 1, len, f);
	fwrite(&zero, 1, pad, f);
	fwrite(&total, 4, 1, f);
}

static void test_pcapng(void)
{
	char path[] = "/tmp/moat-test-ng-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	uint8_t shb[16] = {0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0};
	memset(shb + 8, 0xff, 8); /* section length unknown */
	ng_block(f, 0x0a0d0d0a, shb, sizeof(shb));
	/* IDB: linktype 1, snaplen 0; option if_tsresol (9) = 9 (nanoseconds), end of options */
	uint8_t idb[] = {1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0};
	ng_block(f, 1, idb, sizeof(idb));
	const int n = 40000; /* 25 kpps for 1.6 s */
	uint64_t ts = 1700000000ULL * 1000000000ULL;
	for (int i = 0; i < n; i++) {
		uint8_t body[20 + 116];
		uint64_t t = ts + (uint64_t)i * 40000; /* 25 kpps */
		uint32_t hi = (uint32_t)(t >> 32), lo = (uint32_t)t, cap = 114, wire = 114, ifc = 0;
		memcpy(body, &ifc, 4);
		memcpy(body + 4, &hi, 4);
		memcpy(body + 8, &lo, 4);
		memcpy(body + 12, &cap, 4);
		memcpy(body + 16, &wire, 4);
		good_frame(body + 20);
		ng_block(f, 6, body, 20 + 114);
	}
	fclose(f);

	static const char *yaml = "networks: [198.51.100.0/24]\n"
				  "thresholds: {pps: 20000}\n"
				  "detection: {cooldown: 1}\n";
	struct conf *c;
	char err[512];
	CHECK_EQ(conf_load_buf("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)), 0);
	struct detector *det = det_new(c, 1, err, sizeof(err));
	struct shard *sh = shard_new(0, 4096, det_key(det), true);
	CHECK_EQ(det_add_shard(det, sh), 0);
	n_start = 0;
	det_subscribe(det, on_event, NULL);
	volatile sig_atomic_t stop = 0;
	struct replay_stats rs;
	CHECK_EQ(replay_pcap(path, sh, det, &stop, &rs, err, sizeof(err)), 0);
	CHECK_EQ(rs.packets, n);
	CHECK_EQ(sh->st.dec.n[DEC_OK], n);
	/* nanosecond timestamps survive: the capture spans 1.6 s less one packet gap */
	CHECK_EQ(rs.last_ns - rs.first_ns, (uint64_t)(n - 1) * 40000);
	CHECK_EQ(n_start, 1);
	det_free(det);
	shard_free(sh);
	conf_free(c);
	unlink(path);
}

int main(void)
{
	test_pcapng();
	n_start = 0;
	char path[] = "/tmp/moat-test-replay-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);

	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	CHECK(d != NULL);
	if (!d)
		return t_done("test_replay");

	uint8_t b[256];
	uint64_t ts = 1700000000ULL * 1000000;
	const int good = 60000, per_bad = 50;
	/* 60000 good packets over 2 s: a 30 kpps flood on 198.51.100.5 */
	for (int i = 0; i < good; i++) {
		size_t n = good_frame(b);
		b[27] = (uint8_t)(i & 0xff); /* vary the source a little */
		put(d, ts + (uint64_t)i * 2000000 / good, b, n, n);
		if (i % (good / per_bad))
			continue;
		/* and among them, one of each kind of garbage */
		uint64_t t = ts + (uint64_t)i * 2000000 / good;
		put(d, t, b, 10, 10); /* cut inside ethernet */
		n = good_frame(b);
		b[14] = 0x65; /* version 6 in an IPv4 ethertype */
		put(d, t, b, n, n);
		n = good_frame(b);
		b[14] = 0x43; /* IHL 3 */
		put(d, t, b, n, n);
		n = good_frame(b);
		b[16] = 0x05; /* total length 1380 > wire */
		put(d, t, b, n, n);
		n = good_frame(b);
		put(d, t, b, 20, n); /* snaplen cut inside the IP header */
		n = good_frame(b);
		b[12] = 0x08, b[13] = 0x06; /* ARP: not IP, not an error */
		put(d, t, b, n, n);
	}
	pcap_dump_close(d);
	pcap_close(p);

	static const char *yaml = "networks: [198.51.100.0/24]\n"
				  "thresholds: {pps: 20000}\n"
				  "detection: {cooldown: 1}\n";
	struct conf *c;
	char err[512];
	CHECK_EQ(conf_load_buf("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)), 0);
	struct detector *det = det_new(c, 1, err, sizeof(err));
	struct shard *sh = shard_new(0, 4096, det_key(det), true);
	CHECK_EQ(det_add_shard(det, sh), 0);
	det_subscribe(det, on_event, NULL);
	volatile sig_atomic_t stop = 0;
	struct replay_stats rs;
	CHECK_EQ(replay_pcap(path, sh, det, &stop, &rs, err, sizeof(err)), 0);

	const struct decode_stats *st = &sh->st.dec;
	CHECK_EQ(rs.packets, good + 6 * per_bad);
	CHECK_EQ(st->n[DEC_OK], good);
	CHECK_EQ(st->n[DEC_TRUNC_L2], per_bad);
	CHECK_EQ(st->n[DEC_BAD_IP_VER], per_bad);
	CHECK_EQ(st->n[DEC_BAD_IP_HLEN], per_bad);
	CHECK_EQ(st->n[DEC_BAD_IP_LEN], per_bad);
	CHECK_EQ(st->n[DEC_TRUNC_L3], per_bad);
	CHECK_EQ(st->n[DEC_NOT_IP], per_bad);
	CHECK_EQ(sh->st.obs, good);
	CHECK_EQ(sh->st.dir_bytes[DIR_IN], (uint64_t)good * 100);
	CHECK_EQ(n_start, 1);
	CHECK_EQ(det_stats(det)->attacks_active, 0);

	/* a missing file is an error with its name, not a crash */
	CHECK_EQ(replay_pcap("/nonexistent/x.pcap", sh, det, &stop, &rs, err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent/x.pcap") != NULL);

	det_free(det);
	shard_free(sh);
	conf_free(c);
	unlink(path);
	return t_done("test_replay");
}
