/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_PRIV_H
#define NTFW_PRIV_H

/*
 * Give up what the running daemon does not need: every capability but
 * CAP_NET_ADMIN, the user (to @user when not NULL), new privileges, and
 * every system call outside its list.  Call after the queues are bound
 * and the files opened, before the threads start.  Returns 0, or -1
 * (logged) when the daemon must not run.
 */
int ntfw_priv_daemon(const char *user);

/* ntfw -r once the capture is open: no capability, a tighter list. */
int ntfw_priv_offline(void);

#endif
