/* devices.h: the devices a disk or a network interface sits on, from
 * sysfs: their drivers, modules and modaliases */
#ifndef EARLYFS_DEVICES_H
#define EARLYFS_DEVICES_H
#include <stddef.h>
#include <sys/types.h>

/* A device between a block device and the bus that a driver is bound to. */
struct disk_driver {
	char driver[64];	/* its driver's name: sd, virtio-pci */
	char module[64];	/* the driver's module, "" if built in */
	char modalias[256];	/* the device's, "" if it has none */
};
/* Those of block device dev (a partition: its disk's), nearest first;
 * a loop device's own driver left out.  The number found. */
size_t devices_of_disk(dev_t dev, struct disk_driver *ret, size_t max);
/* The same for each network interface that has a device (the NICs). */
size_t devices_nics(struct disk_driver *ret, size_t max);
#endif
