/* The x86_64 half of mica/arch.h, and the one arch header the generic core
 * reaches (only through mica/arch.h): the machine constants it may use
 * (PAGE_SIZE, ...) and the architecture's parts of its objects.  Nothing
 * here includes a generic header. */
#ifndef MICA_ARCH_ARCH_H
#define MICA_ARCH_ARCH_H

#include "arch/layout.h"
#include "arch/types.h"

#endif
