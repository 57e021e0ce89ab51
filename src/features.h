/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_FEATURES_H
#define NTFW_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ntfw_pkt;

/*
 * Per-flow TCP features (doc/features.md): counters for each direction, updated
 * per packet in constant time and memory.  Definitions follow tcptrace's
 * where tcptrace computes the value.  Direction 0 is client to server (c2s),
 * 1 is server to client (s2c).
 */
#define NTFW_MED_EXACT 32 /* packets whose IP length is kept exactly */
#define NTFW_SEQ_EXT 8 /* extents of unacked sequence space kept */

struct ntfw_feat_dir {
	uint64_t pkts;
	uint64_t bytes;		/* IP total length, summed */
	uint64_t data_pkts;	/* payload > 0, retransmissions included */
	uint64_t data_bytes;
	uint64_t pushed;	/* PSH and payload > 0 */
	uint32_t syn, fin, rst;
	uint32_t init_win_pkts;
	uint64_t init_win_bytes;
	uint32_t rtt_samples;
	uint32_t rexmit;
	uint32_t min_segm;	/* 0 until the first segment with payload */
	uint32_t max_segm;
	uint16_t syn_window;
	int8_t syn_wscale;	/* -1: no window scale option */
	uint8_t dstate;		/* implementation state bits */
	uint8_t nx;		/* extents in use */
	/*
	 * Private.  Sequence space sent: [lo, hi); everything below acked
	 * is acknowledged; [max(lo, acked), hi) is cut into nx extents
	 * starting at xs[i], each a hole, data no ACK of which samples, or
	 * segments of size xz[i] (see features.c).  hs: hi when the
	 * current microsecond began.
	 */
	uint32_t lo, hi;
	uint32_t acked;
	uint32_t hs;
	uint32_t xs[NTFW_SEQ_EXT];
	uint16_t xz[NTFW_SEQ_EXT];
	uint64_t wire_sum;	/* frame lengths: sum and sum of squares */
	uint64_t wire_sumsq;
};

struct ntfw_features {
	struct ntfw_feat_dir d[2];
	uint32_t last_us;	/* microsecond of the last packet, low bits */
	/* IP lengths for the median: the first ones of each direction
	 * exactly, then per-direction histograms (features.c). */
	uint16_t med[NTFW_MED_EXACT];
};

/* Every exported field, in export order (identity fields are the flow's). */
enum ntfw_feature {
	NTFW_F_PKTS_C2S, NTFW_F_PKTS_S2C,
	NTFW_F_BYTES_C2S, NTFW_F_BYTES_S2C,
	NTFW_F_DATA_PKTS_C2S, NTFW_F_DATA_PKTS_S2C,
	NTFW_F_DATA_BYTES_C2S, NTFW_F_DATA_BYTES_S2C,
	NTFW_F_PUSHED_C2S, NTFW_F_PUSHED_S2C,
	NTFW_F_SYN_C2S, NTFW_F_SYN_S2C,
	NTFW_F_FIN_C2S, NTFW_F_FIN_S2C,
	NTFW_F_RST_C2S, NTFW_F_RST_S2C,
	NTFW_F_INIT_WIN_BYTES_C2S, NTFW_F_INIT_WIN_BYTES_S2C,
	NTFW_F_INIT_WIN_PKTS_C2S, NTFW_F_INIT_WIN_PKTS_S2C,
	NTFW_F_SYN_WINDOW_C2S, NTFW_F_SYN_WINDOW_S2C,
	NTFW_F_MIN_SEGM_C2S, NTFW_F_MIN_SEGM_S2C,
	NTFW_F_MAX_SEGM_C2S, NTFW_F_MAX_SEGM_S2C,
	NTFW_F_AVG_SEGM_C2S, NTFW_F_AVG_SEGM_S2C,
	NTFW_F_MED_IP_BYTES_C2S, NTFW_F_MED_IP_BYTES_S2C,
	NTFW_F_VAR_WIRE_BYTES_C2S, NTFW_F_VAR_WIRE_BYTES_S2C,
	NTFW_F_RTT_SAMPLES_C2S, NTFW_F_RTT_SAMPLES_S2C,
	NTFW_F_REXMIT_C2S, NTFW_F_REXMIT_S2C,
	NTFW_F__MAX
};

/* "pkts_c2s" ... for export and for the policy's "flow <feature>". */
const char *ntfw_feature_name(enum ntfw_feature f);
int ntfw_feature_lookup(const char *name, size_t len); /* -1: none */
uint64_t ntfw_feature_value(const struct ntfw_features *f, enum ntfw_feature id);

void ntfw_features_init(struct ntfw_features *f);

/*
 * Account packet @p, travelling in direction @dir (0 c2s, 1 s2c), seen at
 * @ts_ns, @wire_len bytes long on the wire (Ethernet header included).
 */
void ntfw_features_update(struct ntfw_features *f, const struct ntfw_pkt *p,
			  int dir, uint64_t ts_ns, uint32_t wire_len);

/* Whether med_ip_bytes of direction @dir is exact (false: estimated). */
bool ntfw_features_med_exact(const struct ntfw_features *f, int dir);

/*
 * Append the feature fields to a record: JSON members ("name":value, comma
 * separated, no braces) or CSV values in export order.  Return the length
 * written (snprintf-like: may exceed @size, then the output is truncated).
 */
int ntfw_features_json(const struct ntfw_features *f, char *buf, size_t size);
int ntfw_features_csv(const struct ntfw_features *f, char *buf, size_t size);
/* The CSV column names of the feature fields, comma separated. */
const char *ntfw_features_csv_header(void);

#endif
