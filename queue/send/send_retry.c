/* SPDX-License-Identifier: MIT
 * send_retry.c - qmail's retry schedule: next = birth + (floor(sqrt(age)) + c)^2.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    nothing; birth is the mtime of the message's info/ file.
 * May touch:  nothing.
 */
#include "send.h"

/* chanskip: the schedule's step per channel (10 s local, 20 s remote) */
static const unsigned long retry_skip[CHANNELS] = { 10, 20 };

/* retry_isqrt - largest y with y*y <= x */
unsigned long
retry_isqrt(unsigned long x)
{
	unsigned long y = 0, bit = 1UL << (sizeof(x) * 8 - 2);

	while (bit > x)
		bit >>= 2;
	while (bit != 0) {
		if (x >= y + bit) {
			x -= y + bit;
			y = (y >> 1) + bit;
		} else
			y >>= 1;
		bit >>= 2;
	}
	return y;
}

/* retry_next - when to try a message of this birth again on channel chan */
time_t
retry_next(time_t birth, time_t now, int chan)
{
	unsigned long n;

	n = birth > now ? 0 : retry_isqrt((unsigned long)(now - birth));
	n += retry_skip[chan];
	return birth + (time_t)(n * n);
}
