/* The pager's free frames (frames.c): never-used memory kept as ranges with
 * a bump pointer, freed frames on a LIFO list, and a small ring of frames a
 * low-priority thread clears ahead of the faults.  Every address is the
 * frame's address in the pager's window; every frame handed out is zero. */
#ifndef PAGER_FRAMES_H
#define PAGER_FRAMES_H

#include <mica/ipc.h>

/* Take [base, base + bytes) as never-used memory (contents unknown): it is
 * only recorded, not touched.  MICA_ENOMEM when the range table is full. */
int frames_add(uint64_t base, uint64_t bytes);

/* A frame whose every word is zero, or 0 when none is left. */
uint64_t frames_take(void);

/* Clear frame f and keep it for the next frames_take. */
void frames_give(uint64_t f);

/* Frames free (in every form) and frames ever added. */
uint64_t frames_free(void);
uint64_t frames_total(void);

/* Start the clearing thread in the pager's own task (a handle with
 * MICA_R_CONTROL), at the lowest priority; its stack and IPC buffer are two
 * frames, counted in *meta.  MICA_EEXISTS when it runs already. */
int frames_start_cleaner(mica_handle_t self_task, uint64_t *meta);

/* Wait until the clearing thread is idle and stop refilling its ring, so
 * that frames_take alone reaches every free frame (the every-frame test);
 * frames_resume undoes it. */
void frames_settle(void);
void frames_resume(void);

/* Bench: while `on`, frames_take skips every ready frame and clears a
 * never-used one itself (the cold path, measured as pager_fault_cold). */
void frames_set_cold(int on);

/* Test: write a pattern into the next n never-used frames (still free).
 * Returns an upper bound of the frames frames_take hands out before them
 * (the recycled and the ring's). */
uint64_t frames_scribble(uint64_t n);

#endif
