// libmnl plus the rtnetlink UAPI headers. linux/if.h is deliberately not included: it clashes with glibc's net/if.h.
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
