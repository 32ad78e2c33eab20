/* t.h: the smallest test harness that can fail. Each CHECK counts; main returns t_done(). */
#ifndef MOAT_T_H
#define MOAT_T_H

#include <stdio.h>
#include <string.h>

static int t_checks, t_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		t_checks++;                                                                        \
		if (!(cond)) {                                                                     \
			t_failed++;                                                                \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		t_checks++;                                                                        \
		if (_a != _b) {                                                                    \
			t_failed++;                                                                \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n",        \
				__FILE__, __LINE__, #a, _a, #b, _b);                               \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		t_checks++;                                                                        \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
			t_failed++;                                                                \
			fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", __FILE__,   \
				__LINE__, _a ? _a : "(null)", _b ? _b : "(null)");                 \
		}                                                                                  \
	} while (0)

static inline int t_done(const char *name)
{
	if (t_checks == 0) {
		fprintf(stderr, "%s: no checks ran\n", name);
		return 1;
	}
	printf("%s: %d checks, %d failed\n", name, t_checks, t_failed);
	return t_failed ? 1 : 0;
}

#endif
