// Namespaces: what Swift cannot import directly, declarations glibc hides behind _GNU_SOURCE (setns,
// CLONE_NEWNET) and macros (NS_GET_NSTYPE, NSFS_MAGIC).
#ifndef CNAMESPACES_H
#define CNAMESPACES_H

/// setns(fd, CLONE_NEWNET). Returns 0 or -1 with errno set.
int cs_setns_net(int fd);

/// Classifies an open file descriptor: 0 = network namespace, 1 = not a namespace file at all,
/// 2 = a namespace of another kind, -1 = the checks themselves failed (errno set).
int cs_netns_kind(int fd);

#endif
