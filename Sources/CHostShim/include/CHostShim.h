// C library calls Swift's Glibc module does not export.
#ifndef FAILOVERCTL_CHOSTSHIM_H
#define FAILOVERCTL_CHOSTSHIM_H

/// Two malloc arenas and fixed trim/mmap thresholds for a long-running service (glibc
/// otherwise raises the thresholds after each large free and keeps freed memory).
/// Returns 1 when every setting was accepted; a no-op returning 0 off glibc.
int fo_tune_malloc(void);

#endif
