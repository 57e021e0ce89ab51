/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_LOG_H
#define NTFW_LOG_H

/* OpenBSD-style logging: stderr in the foreground, syslog otherwise. */
void log_init(int foreground, int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Called with the text of every warning (the event log's "error"). */
void log_set_hook(void (*hook)(const char *msg));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
