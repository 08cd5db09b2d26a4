/* SPDX-License-Identifier: MIT
 * main.c - qmail-clean: requests on fd 0 ("foop/ID\0", "todo/ID\0"), one answer
 * byte each on fd 1 ('+' done, '!' failed, 'x' malformed); see qmail-clean(8).
 *
 * Runs as:    qmailq, started by qmail-start (or as the caller in the sandbox).
 * Trusted:    qmail-send at the other end of the pipes; QMAILHOME (lib/home).
 * Hostile:    nothing beyond a confused peer; every request is checked.
 * May touch:  <home>/queue intd/ mess/ todo/ pid/.
 */
#include <signal.h>

#include "home.h"
#include "clean.h"

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return clean_run(home_dir(), 0, 1);
}
