/* profile: stage timestamps for make bench (a build with -DEARLYFS_PROFILE)
 *
 * profile_mark(STAGE) notes the monotonic clock when STAGE ends;
 * profile_dump() writes them all as one kernel log line,
 *   earlyfs-profile: now=US STAGE=US:CPU_US ...
 * from which bench/boot.py, aligning 'now' with the line's own kernel
 * timestamp, tells how long each stage took, and from the CPU time PID 1
 * had used at each mark (CPU_US), how much of it was its own work.  The
 * shipped runner is built without it: both calls compile to nothing.
 */
#ifndef EARLYFS_PROFILE_H
#define EARLYFS_PROFILE_H

#ifdef EARLYFS_PROFILE
void profile_mark(const char *stage);
void profile_dump(void);
#else
static inline void profile_mark(const char *stage) { (void)stage; }
static inline void profile_dump(void) {}
#endif

#endif
