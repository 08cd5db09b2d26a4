/* SPDX-License-Identifier: MIT */
#ifndef SQ_QTEST_H
#define SQ_QTEST_H

#include <stddef.h>
#include <sys/types.h>

/* How to run qmail-queue in a test. */
struct qt_opts {
	int msgfd;		/* >= 0: use this fd as the message instead of a pipe */
	unsigned long fsize;	/* > 0: RLIMIT_FSIZE for the child */
	int hang;		/* > 0: send this signal while qmail-queue waits for input */
	const char *strace;	/* run under strace -f -y, its log into this file */
};

/* qt_mkhome - a fresh qmail home (mkhome.sh) in a temporary directory */
void qt_mkhome(char *home, size_t size);
/* qt_rmhome - remove it again */
void qt_rmhome(const char *home);
/* qt_prog - "$SQ_BUILDDIR/<rel>" */
const char *qt_prog(const char *rel);
/* qt_qq - run qmail-queue with QMAILHOME=home; its exit code (or 128+signal) */
int qt_qq(const char *home, const void *msg, size_t msglen, const void *env,
    size_t envlen, const struct qt_opts *o);
/* qt_count - number of files under home/queue/sub (recursively) */
int qt_count(const char *home, const char *sub);
/* qt_first - name of the first file under home/queue/sub/SPLIT (out: "SPLIT/ID"), 0 or -1 */
int qt_first(const char *home, const char *sub, char *out, size_t size);
/* qt_slurp - whole file into malloc'd memory (NUL-terminated), NULL if missing */
char *qt_slurp(const char *path, size_t *len);
/* qt_sh - run a shell command; its exit status */
int qt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
