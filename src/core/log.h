/* log: one line per message, to stderr or a file, with a level. Thread-safe (one write(2) each). */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <syslog.h>

void log_init(const char *file, int level);
void log_set_level(int level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
