#define _GNU_SOURCE
#include "cnamespaces.h"
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <linux/nsfs.h>
#include <linux/magic.h>

int cs_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

int cs_netns_kind(int fd) {
    struct statfs sfs;
    if (fstatfs(fd, &sfs) != 0) return -1;
    if ((unsigned long)sfs.f_type != (unsigned long)NSFS_MAGIC) return 1;
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type < 0) return -1;
    return type == CLONE_NEWNET ? 0 : 2;
}
