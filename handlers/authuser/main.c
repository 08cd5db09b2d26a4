/* SPDX-License-Identifier: MIT
 * main.c - qmail-authuser: checkpassword-compatible check of users/authuser (and shadow).
 *
 * Runs as:    the caller's user (qmaild under qmail-smtpd); root only for -s.
 * Hostile:    fd 3 (user, secret, challenge), at most 512 bytes are read.
 * Trusted:    argv (from qmail-smtpd's command line), <home>/users/authuser.
 * May touch:  reads fd 3 and those files, then execs the subprogram on success.
 * Must not:   log secrets; exit 0 without a successful check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authuser.h"
#include "home.h"
#include "log.h"

/* hash_stdin - qmail-authuser --hash: one password on stdin, its hash on stdout */
static int
hash_stdin(void)
{
	char pw[256], h[512];

	if (fgets(pw, sizeof(pw), stdin) == NULL)
		return AUTHUSER_TEMP;
	pw[strcspn(pw, "\r\n")] = '\0';
	if (authuser_hash(pw, h, sizeof(h)) < 0)
		log_fatal(AUTHUSER_TEMP, "crypt: %m");
	explicit_bzero(pw, sizeof(pw));
	return puts(h) < 0 ? AUTHUSER_TEMP : 0;
}

/* main - qmail-authuser [-s] [subprogram ...], or qmail-authuser --hash */

int
main(int argc, char **argv)
{
	struct authuser_req r;
	char in[513], file[4096];
	size_t n = 0;
	ssize_t k;
	int sys = 0, i = 1, res;

	if (argc == 2 && strcmp(argv[1], "--hash") == 0)
		return hash_stdin();
	if (i < argc && strcmp(argv[i], "-s") == 0) {
		sys = 1;
		i++;
	}
	while (n < sizeof(in) && (k = read(3, in + n, sizeof(in) - n)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			log_fatal(AUTHUSER_TEMP, "read fd 3: %m");
		n += (size_t)k;
	}
	close(3);
	if (n == sizeof(in) || authuser_parse(in, n, &r) < 0) {
		explicit_bzero(in, sizeof(in));
		log_info("refused: malformed request");
		return AUTHUSER_NO;
	}
	explicit_bzero(in, sizeof(in));
	if (home_path(file, sizeof(file), "users/authuser") < 0)
		return AUTHUSER_TEMP;
	res = authuser_check(&r, file, sys);
	explicit_bzero(&r.secret, sizeof(r.secret));
	if (res != AUTHUSER_OK)
		return res;
	setenv("AUTHUSER", r.user, 1);
	if (i >= argc)
		return AUTHUSER_OK;
	execvp(argv[i], argv + i);
	log_fatal(AUTHUSER_TEMP, "exec %s: %m", argv[i]);
}
