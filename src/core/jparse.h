/* jparse: a strict RFC 8259 JSON parser into a read-only DOM.
 *
 * The whole document lives in one arena: jparse() returns it, jdoc_free() releases it, and every
 * pointer obtained from it (values, strings, keys) is valid until then.
 *
 * What is accepted is exactly RFC 8259, with these choices where the RFC leaves room:
 * - any value may be the root (also a bare string or number); whitespace is space, tab, LF, CR
 *   only; anything but whitespace after the root value is an error;
 * - the input must be UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF);
 *   a byte order mark is refused; control characters (U+0000..U+001F) must be escaped;
 * - \uXXXX escapes are decoded to UTF-8; a surrogate pair becomes one character, a lone
 *   surrogate is an error; \u0000 is allowed (see jv_str and jv_strn);
 * - numbers must fit a double: a number whose magnitude overflows (1e400) is an error, one that
 *   underflows (1e-400) reads as 0 or a denormal;
 * - nesting (arrays and objects) is limited to JPARSE_MAX_DEPTH levels; the parser does not
 *   recurse, so neither depth nor size can exhaust the stack;
 * - duplicate keys are kept, in order, and jv_get() finds the last one ("last wins").
 *
 * Memory: 32 bytes per value in the arena (48 per object member, plus its key) and the decoded
 * strings, and while a container is open 48 bytes per finished value in a temporary stack. The
 * worst case, a long array of one-digit numbers ("[0,0,...]"), peaks at about 40 times the input
 * size; callers bound the input (64 KiB would be typical for replies and request bodies).
 *
 * Errors: jparse() returns NULL and writes "LINE:COLUMN: message" into err (1-based; columns
 * count characters, i.e. UTF-8 sequences, from the start of the line).
 *
 * Accessors accept NULL (and return the "absent" answer for it), so lookups chain:
 *   jv_str(jv_get(jv_get(root, "rule"), "target")) is NULL unless every step exists. */
#ifndef MOAT_JPARSE_H
#define MOAT_JPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JPARSE_MAX_DEPTH 32

enum jtype {
	J_NONE = 0, /* no value: what jv_type() says of NULL (a missing key, an index too far) */
	J_NULL,
	J_BOOL,
	J_NUM,
	J_STR,
	J_ARR,
	J_OBJ,
};

struct jdoc;
struct jval;

/* Parses buf[0..len) (no NUL terminator needed). NULL on error or when out of memory, with the
 * reason in err (when errlen > 0). */
struct jdoc *jparse(const char *buf, size_t len, char *err, size_t errlen);
void jdoc_free(struct jdoc *d);
const struct jval *jdoc_root(const struct jdoc *d);

enum jtype jv_type(const struct jval *v);
const char *jv_typename(enum jtype t); /* "null", "boolean", ... "object"; "none" for J_NONE */

/* Arrays and objects: the number of elements or members. Strings: the length in bytes. Other
 * values: 0. */
size_t jv_len(const struct jval *v);
/* An array's element i, or an object's member value i (members keep the document's order);
 * NULL when i >= jv_len(v) or v is neither. */
const struct jval *jv_at(const struct jval *v, size_t i);
/* An object's member key i (NUL-terminated; a key holding \u0000 ends there), or NULL. */
const char *jv_key(const struct jval *obj, size_t i);
/* The same with its length in bytes (*len may be NULL). */
const char *jv_keyn(const struct jval *obj, size_t i, size_t *len);
/* The value of the last member named key, or NULL when obj is not an object or has none. Keys
 * are compared in full (a key holding \u0000 never equals a C string). Linear in members. */
const struct jval *jv_get(const struct jval *obj, const char *key);

/* A string's text, NUL-terminated; NULL if v is not a string, or if the string holds U+0000
 * (which a C string cannot carry: use jv_strn for those). */
const char *jv_str(const struct jval *v);
/* A string's text and its length in bytes (*len may be NULL); NULL if v is not a string. */
const char *jv_strn(const struct jval *v, size_t *len);

/* A number's value; NAN if v is not a number (no JSON number reads as NaN). */
double jv_num(const struct jval *v);
/* True and the exact value when v is a number that is an integer (whatever its spelling: 5,
 * 5.0, 0.5e1 and 500e-2 are all 5) within the range of the type; false otherwise. Exact also
 * beyond 2^53, where a double would round: 18446744073709551615 is UINT64_MAX. */
bool jv_int(const struct jval *v, int64_t *out);
bool jv_uint(const struct jval *v, uint64_t *out);
/* 1 for true, 0 for false, -1 if v is not a boolean. */
int jv_bool(const struct jval *v);

/* True if s[0..len) is valid UTF-8 (RFC 3629, as strings in documents must be; U+0000 is
 * valid). For text that will be written into JSON: the writer (json.h) copies bytes as they are,
 * and a reply holding invalid UTF-8 is not JSON. */
bool jutf8_valid(const void *s, size_t len);

/* Writes v back with the JSON writer (src/core/json.h): a parsed document, or part of one, copied
 * into a reply. Whole numbers come out exactly (to 64 bits), others as the doubles they were
 * read as; a string holding U+0000 and a missing value (NULL) come out as null. A container nested
 * deeper than the writer can (JSON_DEPTH) comes out as null too, so the output is always JSON.
 * Returns how many values were written as null for those reasons. */
struct json;
size_t jv_write(const struct jval *v, struct json *j);

#endif
