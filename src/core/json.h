/* json: a small streaming JSON writer into a growable buffer. Strings are escaped per RFC 8259;
 * commas are placed by the writer, so callers only say what comes next. */
#ifndef MOAT_JSON_H
#define MOAT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH 16

struct json {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[JSON_DEPTH]; /* no comma needed before the next item at this depth */
	bool after_key;
	bool oom; /* an allocation failed: the output is incomplete */
};

void json_init(struct json *j);
void json_free(struct json *j);
void json_reset(struct json *j);
void json_obj(struct json *j);	/* { */
void json_end(struct json *j);	/* } */
void json_arr(struct json *j);	/* [ */
void json_aend(struct json *j); /* ] */
void json_key(struct json *j, const char *k);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_dbl(struct json *j, double v, int decimals);
/* any finite double, exactly (as few digits as read back the same); null for NaN/inf */
void json_num(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* appends raw text with no separator logic (for a newline at the end of a line) */
void json_raw(struct json *j, const char *s);

#endif
