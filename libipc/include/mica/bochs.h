#ifndef MICA_BOCHS_H
#define MICA_BOCHS_H

/* Magic breakpoint: stops Bochs in its debugger (make bochs, docs/bochs.md); a no-op anywhere else. */
#define BOCHS_BREAK() __asm__ volatile("xchg %%bx, %%bx" ::: "memory")

#endif
