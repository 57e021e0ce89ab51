// SPDX-License-Identifier: GPL-2.0-only
/* Logging: one line per call, to stderr (-d) or syslog (daemon). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int log_foreground = 1;
static int log_verbose;
static void (*log_hook)(const char *msg);

void log_set_hook(void (*hook)(const char *msg))
{
	log_hook = hook;
}

void log_init(int foreground, int verbose)
{
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog("ntfw", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void log_vwrite(int pri, const char *fmt, va_list ap, int err)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_hook && pri <= LOG_WARNING) {
		char full[1200];

		if (err)
			snprintf(full, sizeof(full), "%s: %s", msg,
				 strerror(err));
		log_hook(err ? full : msg);
	}
	if (log_foreground) {
		/* One fprintf per line so that threads do not interleave. */
		if (err)
			fprintf(stderr, "ntfw: %s: %s\n", msg, strerror(err));
		else
			fprintf(stderr, "ntfw: %s\n", msg);
		return;
	}
	if (err)
		syslog(pri, "%s: %s", msg, strerror(err));
	else
		syslog(pri, "%s", msg);
}

#define LOG_BODY(pri, err)                   \
	do {                                 \
		va_list ap;                  \
		va_start(ap, fmt);           \
		log_vwrite(pri, fmt, ap, err); \
		va_end(ap);                  \
	} while (0)

void log_warn(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOG_WARNING, err);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
	if (log_verbose > 1)
		LOG_BODY(LOG_DEBUG, 0);
}

void fatal(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOG_CRIT, err);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(1);
}
