/* SPDX-License-Identifier: MIT */
#ifndef SQ_FD_H
#define SQ_FD_H

#include <stddef.h>

/* fd_write_all - write all n bytes, retrying after EINTR and short writes;
 * 0, or -1 with errno set */
int fd_write_all(int fd, const void *p, size_t n);

#endif
