#ifndef ARMORED_BOARD_H
#define ARMORED_BOARD_H
/* The emulated board (QEMU mps2-an386): semihosting for console, files, time
 * and exit; SysTick as an instruction counter under -icount; stack painting. */

#include <stddef.h>
#include <stdint.h>

void board_puts(const char *s);
void board_put_hex(const char *label, const uint8_t *p, size_t n); /* "label <hex>\n" */
void board_put_u32(const char *label, uint32_t v);                 /* "label <decimal>\n" */
long board_read_file(const char *name, uint8_t *buf, size_t cap);  /* bytes read, -1 if absent */
int board_get_cmdline(char *buf, size_t cap);
int64_t board_time(void);                                          /* host Unix seconds */
void board_exit(int code) __attribute__((noreturn));

/* Virtual-time ticks; with -icount shift=0 one tick is a fixed number of
 * instructions (board_calibrate() measures it). */
uint64_t board_ticks(void);
uint32_t board_calibrate(void); /* instructions per 1000 ticks */

void board_paint_stack(void);   /* fills the unused stack below the caller */
size_t board_stack_used(void);  /* deepest use since the last paint, bytes */

#endif
