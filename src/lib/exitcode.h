/* exitcode: what a child's end says, as a shell reports it */
#ifndef EARLYFS_EXITCODE_H
#define EARLYFS_EXITCODE_H
#include <sys/types.h>

/* Waits for pid (EINTR retried): its exit status, 128 + the signal that
 * ended it, or -errno. */
int exitcode_wait(pid_t pid);
#endif
