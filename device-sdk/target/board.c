/* Start-up, semihosting and measuring helpers of the emulated board. */

#include "board.h"

#include <string.h>

extern uint32_t __bss_start, __bss_end, __stack_limit, __stack_top;
int main(void);

void reset_handler(void);
void systick_handler(void);
static void default_handler(void) { board_exit(3); }

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&__stack_top), reset_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, 0, 0, 0, 0, default_handler, default_handler, 0, default_handler,
    systick_handler};

void reset_handler(void) {
  for (uint32_t *p = &__bss_start; p < &__bss_end; ++p) *p = 0;
  /* Enable the FPU (CPACR) in case the C library touches it. */
  *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
  board_exit(main());
}

/* ---- semihosting (ARM DUI 0471) ---- */
static int semihost(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void board_puts(const char *s) { semihost(0x04, s); /* SYS_WRITE0 */ }

void board_put_hex(const char *label, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char line[96];
  size_t k = 0;
  board_puts(label);
  board_puts(" ");
  for (size_t i = 0; i < n; ++i) {
    line[k++] = digits[p[i] >> 4];
    line[k++] = digits[p[i] & 15];
    if (k >= sizeof line - 2) {
      line[k] = 0;
      board_puts(line);
      k = 0;
    }
  }
  line[k++] = '\n';
  line[k] = 0;
  board_puts(line);
}

void board_put_u32(const char *label, uint32_t v) {
  char buf[12];
  int k = 11;
  buf[k] = 0;
  do {
    buf[--k] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  board_puts(label);
  board_puts(" ");
  board_puts(buf + k);
  board_puts("\n");
}

long board_read_file(const char *name, uint8_t *buf, size_t cap) {
  uint32_t open_args[3] = {(uint32_t)name, 1 /* "rb" */, (uint32_t)strlen(name)};
  const int fd = semihost(0x01, open_args); /* SYS_OPEN */
  if (fd < 0) return -1;
  uint32_t read_args[3] = {(uint32_t)fd, (uint32_t)buf, (uint32_t)cap};
  const int left = semihost(0x06, read_args); /* SYS_READ: bytes NOT read */
  uint32_t close_args[1] = {(uint32_t)fd};
  semihost(0x02, close_args);
  return (long)cap - left;
}

int board_get_cmdline(char *buf, size_t cap) {
  uint32_t args[2] = {(uint32_t)buf, (uint32_t)cap};
  return semihost(0x15, args) == 0 ? 0 : -1; /* SYS_GET_CMDLINE */
}

int64_t board_time(void) { return semihost(0x11, 0); /* SYS_TIME */ }

void board_exit(int code) {
  /* SYS_EXIT with ADP_Stopped_ApplicationExit; QEMU exits with `code`
   * through the extended form on AArch32 only, so report it first. */
  if (code != 0) board_put_u32("exit", (uint32_t)code);
  semihost(0x18, (const void *)(code == 0 ? 0x20026u : 0x20024u));
  for (;;) {
  }
}

/* ---- SysTick as a 64-bit tick counter ---- */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
static volatile uint32_t wraps;

void systick_handler(void) { ++wraps; }

uint64_t board_ticks(void) {
  if (!(SYST_CSR & 1u)) {
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
    while (SYST_CVR == 0) {
      /* the first tick loads the reload value without counting a wrap */
    }
  }
  uint32_t w, v;
  do {
    w = wraps;
    v = SYST_CVR;
  } while (w != wraps);
  return ((uint64_t)w << 24) + (0x00FFFFFFu - v);
}

uint32_t board_calibrate(void) {
  /* 4 instructions per iteration (subs, nop, nop, bne) x 1,000,000. */
  const uint64_t t0 = board_ticks();
  __asm__ volatile(
      "ldr r3, =1000000\n"
      "1: subs r3, r3, #1\n nop\n nop\n bne 1b\n" ::: "r3", "cc");
  const uint64_t t1 = board_ticks();
  return (uint32_t)(4000000000ull / (t1 - t0));
}

/* ---- stack painting ---- */
#define PAINT 0xA5A5A5A5u
static uint32_t *painted_top;

void board_paint_stack(void) {
  uint32_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  painted_top = (uint32_t *)(sp - 64); /* leave this frame alone */
  for (uint32_t *p = &__stack_limit; p < painted_top; ++p) *p = PAINT;
}

size_t board_stack_used(void) {
  uint32_t *p = &__stack_limit;
  while (p < painted_top && *p == PAINT) ++p;
  return (size_t)((uint8_t *)painted_top - (uint8_t *)p);
}
