/* The kernel log: one line per call, on COM1 and port 0xE9, in one format:
 *   [ OK ] paging: 5-level (LA57)
 *   [INFO] memory: 511 MiB free in 3 ranges
 *   [WARN] multiboot2: tag 42 at offset 0x48: unknown tag, skipped
 *   [FAIL] exception #PF in ring 0
 * The harness and people both read it, so the prefix is fixed. */
#ifndef MICA_LOG_H
#define MICA_LOG_H

enum log_level { LOG_OK, LOG_INFO, LOG_WARN, LOG_FAIL, LOG_RAW };

/* Print one formatted line with the level's prefix; "\n" is appended. */
void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print formatted text with no prefix and no newline added. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write raw bytes to every console. */
void console_write(const char *s, unsigned long len);

#define LOG_OK(...) klog(LOG_OK, __VA_ARGS__)
#define LOG_INFO(...) klog(LOG_INFO, __VA_ARGS__)
#define LOG_WARN(...) klog(LOG_WARN, __VA_ARGS__)
#define LOG_FAIL(...) klog(LOG_FAIL, __VA_ARGS__)

#endif
