/* Intrusive doubly-linked lists with a sentinel head (freestanding, no
 * allocation).  A node that is in no list points to itself, so
 * list_linked() can tell and list_remove() is safe to call twice. */
#ifndef BASE_LIST_H
#define BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
    struct list *next, *prev;
};

#define LIST_INIT(name)                                                                                      \
    {                                                                                                        \
        &(name), &(name)                                                                                     \
    }
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define list_entry(node, type, member) container_of(node, type, member)

/* Make l an empty list (or an unlinked node). */
static inline void list_init(struct list *l)
{
    l->next = l->prev = l;
}

static inline bool list_empty(const struct list *l)
{
    return l->next == l;
}

/* True when node n is in some list. */
static inline bool list_linked(const struct list *n)
{
    return n->next != n;
}

/* Insert n before `at` (at == head: append). */
static inline void list_insert_before(struct list *at, struct list *n)
{
    n->prev = at->prev;
    n->next = at;
    at->prev->next = n;
    at->prev = n;
}

static inline void list_push_back(struct list *head, struct list *n)
{
    list_insert_before(head, n);
}

static inline void list_push_front(struct list *head, struct list *n)
{
    list_insert_before(head->next, n);
}

/* Unlink n and leave it unlinked (pointing to itself). */
static inline void list_remove(struct list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

/* First node, or NULL when empty. */
static inline struct list *list_first(const struct list *head)
{
    return list_empty(head) ? NULL : head->next;
}

#define list_for_each(pos, head) for (struct list *pos = (head)->next; pos != (head); pos = pos->next)
/* Iterate while allowing removal of `pos`. */
#define list_for_each_safe(pos, tmp, head)                                                                   \
    for (struct list *pos = (head)->next, *tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

#endif
