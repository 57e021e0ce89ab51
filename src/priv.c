// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege.  Once the queues are bound and the files opened, the
 * daemon keeps one capability, may switch to an unprivileged user, can
 * never gain privileges again (PR_SET_NO_NEW_PRIVS), and runs under a
 * seccomp allowlist of the system calls its running threads make.
 *
 * The capability kept: CAP_NET_ADMIN, effective and permitted.
 * nfnetlink checks it on every message a process sends
 * (nfnetlink_rcv(): netlink_net_capable(skb, CAP_NET_ADMIN)), verdicts
 * included, not only at bind: measured on Linux 6.18, a daemon without it
 * has each verdict refused with EPERM and the queued packets wait forever,
 * and a reload cannot send its queue config (NFQNL_MSG_CONFIG, copy-range).
 * Everything else goes, and the bounding set is emptied (when we may
 * change it), so that no exec could bring a capability back.
 *
 * The seccomp policy's default action is to kill the process (SIGSYS,
 * SECCOMP_RET_KILL_PROCESS), not EPERM: a system call outside the list
 * means a bug or an attacker in the packet parser, and a firewall that
 * stops is what fail-open/bypass (and systemd's Restart=) are there for;
 * an EPERM would let an exploit probe on.  mmap/mprotect with PROT_EXEC
 * are refused alike; socket() only for AF_UNIX (see daemon_extra()).  Set NTFW_SECCOMP_DEBUG=execve or =socket to make the
 * daemon (or ntfw -r) try that call once the filter is in place: the tests
 * show it dies of SIGSYS.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "log.h"
#include "priv.h"

/* What the running daemon's threads call, found with strace -f on the
 * netns tests: the workers (recvfrom/sendto/poll), the kmod ring reader,
 * the main thread's sigwait, reload (reads the config, opens the event
 * log, re-sends the queue config), the SIGUSR1 report (reads
 * /proc/net/netfilter/nfnetlink_queue), starting the threads and exit. */
static const int daemon_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(lseek), SCMP_SYS(openat), SCMP_SYS(close),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(statx),
	SCMP_SYS(fcntl), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(mremap),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn), SCMP_SYS(futex),
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(getrandom), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(restart_syscall),
	/* The control socket's thread (ctl.c): clients, and the socket
	 * file removed at exit; the metrics file written then renamed
	 * (metrics.c); the kernel ring looked for and mapped again after
	 * the module comes back (kring.c); the event log reopened
	 * (evlog.c). */
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(shutdown),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(fsync),
	SCMP_SYS(fdatasync), SCMP_SYS(fchmod), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(sysinfo),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
};

/* ntfw -r after the capture is open: read it, compute, write records. */
static const int offline_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(lseek),
	SCMP_SYS(close), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(mremap),
	SCMP_SYS(futex), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(clock_gettime),
	SCMP_SYS(getrandom), SCMP_SYS(rseq), SCMP_SYS(set_robust_list),
	SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(tgkill),
};

/*
 * Sanitizer builds only (`make SAN=1`): what the AddressSanitizer runtime
 * calls behind the program's back.  Each new thread gets an alternate
 * signal stack (sigaltstack); LeakSanitizer's check at exit stops the
 * world from a cloned tracer that ptraces every thread (clone, prctl
 * PR_SET_PTRACER/PR_SET_DUMPABLE, getppid, ptrace, wait4, the task list
 * read with getdents64), reads /proc/self/maps (open: the runtime makes
 * the legacy calls on x86_64) and symbolizes
 * the report from the binary (readlink /proc/self/exe).  A normal build
 * never compiles this list in; execve and socket stay forbidden in both.
 */
#if defined(__SANITIZE_ADDRESS__)
#define NTFW_SAN_SECCOMP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NTFW_SAN_SECCOMP 1
#endif
#endif
#ifdef NTFW_SAN_SECCOMP
static const int san_calls[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(prctl), SCMP_SYS(getppid),
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4),
	SCMP_SYS(getdents64), SCMP_SYS(getdents), SCMP_SYS(open),
	SCMP_SYS(openat), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(tgkill), SCMP_SYS(kill), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64),
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(pread64),
	SCMP_SYS(read), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(write), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(nanosleep), SCMP_SYS(uname),
};

static int san_extra(scmp_filter_ctx ctx)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < sizeof(san_calls) / sizeof(san_calls[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, san_calls[i], 0);
	/* A report asks whether stderr is a terminal (colours). */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, TCGETS));
	return rc;
}
#else
static int san_extra(scmp_filter_ctx ctx)
{
	return 0;
}
#endif

/* NTFW_SECCOMP_DEBUG: try a call the filter forbids (tests). */
static void debug_forbidden(void)
{
	const char *what = getenv("NTFW_SECCOMP_DEBUG");
	char *const argv[] = { "/bin/true", NULL };
	int fd;

	if (!what)
		return;
	log_info("seccomp debug: trying %s", what);
	if (!strcmp(what, "execve")) {
		execve(argv[0], argv, argv + 1);
		log_warn("seccomp debug: execve");
	} else if (!strcmp(what, "socket")) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			log_warn("seccomp debug: socket");
		else
			close(fd);
	}
}

/*
 * The workers name interfaces (ifcache.c: if_indextoname()), which glibc
 * does with ioctl(SIOCGIFNAME) on an AF_UNIX datagram socket: that much,
 * and no other socket.
 */
static int daemon_extra(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) ?:
	       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				SCMP_A1(SCMP_CMP_EQ, SIOCGIFNAME));
}

/* Allow @calls, mmap and mprotect without PROT_EXEC; kill on anything
 * else, in every thread.  Returns 0 or a negative errno. */
static int filter_load(const int *calls, size_t n,
		       int (*extra)(scmp_filter_ctx))
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	size_t i;
	int rc = -ENOMEM;

	if (!ctx)
		return rc;
	/* Threads already running get the filter too. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (i = 0; !rc && i < n; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!rc && extra)
		rc = extra(ctx);
	if (!rc)
		rc = san_extra(ctx);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

/*
 * systemd's readiness protocol (sd_notify(3)), without libsystemd: one
 * datagram "READY=1" to $NOTIFY_SOCKET, a path or "@" for the abstract
 * namespace.  The queues are bound by now: the kernel holds packets until
 * the workers, started next, read them.
 */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[64];
	size_t n;
	int fd, len;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	len = snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d", (int)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		log_warn("NOTIFY_SOCKET");
	close(fd);
}

static int no_new_privs(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}

/* Keep CAP_NET_ADMIN only; switch to @user when given. */
static int caps_drop(const char *user)
{
	int sel = CAPNG_SELECT_CAPS, rc;
	struct passwd *pw = NULL;

	if (user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw) {
			if (errno)
				log_warn("user %s", user);
			else
				log_warnx("user %s: no such user", user);
			return -1;
		}
	}
	/* The bounding set can only shrink with CAP_SETPCAP: root has it;
	 * a service user given CAP_NET_ADMIN alone (ambient, by systemd)
	 * has had its bounding set cut by systemd already. */
	capng_get_caps_process();
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
		sel = CAPNG_SELECT_BOTH;
	capng_clear(CAPNG_SELECT_BOTH);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		     CAP_NET_ADMIN);
	if (pw) {
		/* Changes the ids, drops the supplementary groups and the
		 * bounding set, and keeps what we asked for across setuid. */
		rc = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
				     CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		if (rc) {
			log_warnx("cannot switch to user %s (capng_change_id: %d)",
				  user, rc);
			return -1;
		}
		return 0;
	}
	rc = capng_apply(sel);
	if (rc) {
		log_warnx("cannot drop capabilities (capng_apply: %d)", rc);
		return -1;
	}
	/* Ambient capabilities would survive an exec: none. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return 0;
}

int ntfw_priv_daemon(const char *user)
{
	int rc;

	if (caps_drop(user))
		return -1;
	notify_ready();
	rc = no_new_privs();
	if (!rc)
		rc = filter_load(daemon_calls,
				 sizeof(daemon_calls) / sizeof(daemon_calls[0]),
				 daemon_extra);
	if (rc) {
		errno = -rc;
		log_warn("cannot install the seccomp filter");
		return -1;
	}
	log_info("privileges: user %s, capabilities cap_net_admin, seccomp allowlist",
		 user ? user : "unchanged");
	debug_forbidden();
	return 0;
}

int ntfw_priv_offline(void)
{
	int rc;

	/* Whatever capabilities we came with, reading a file needs none. */
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS))
		log_warnx("cannot drop capabilities");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	rc = no_new_privs();
	/* Debugging only: valgrind does not implement seccomp(2), so
	 * NTFW_NO_SECCOMP=1 leaves the filter out of ntfw -r, saying so.
	 * The daemon never reads it: its environment cannot disarm it. */
	if (!rc && getenv("NTFW_NO_SECCOMP") &&
	    !strcmp(getenv("NTFW_NO_SECCOMP"), "1")) {
		log_warnx("seccomp filter left out (NTFW_NO_SECCOMP=1)");
		return 0;
	}
	if (!rc)
		rc = filter_load(offline_calls,
				 sizeof(offline_calls) / sizeof(offline_calls[0]),
				 NULL);
	if (rc) {
		errno = -rc;
		log_warn("cannot install the seccomp filter");
		return -1;
	}
	debug_forbidden();
	return 0;
}
