/* The periodic timer: the local APIC timer when CPUID has an APIC (its rate
 * measured against the PIT), else the PIT itself through the 8259.  Either
 * way VEC_TIMER fires tick_us apart.  The 8259's other lines stay masked. */
#include "arch/cpu.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "arch/trap.h"
#include "base/str.h"
#include "mica/arch.h"
#include "mica/bootmem.h"
#include "mica/kernel.h"
#include "mica/log.h"
#include "mica/panic.h"
#include "mica/sched.h"

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

#define MSR_APIC_BASE 0x1b
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LAPIC_LVT_LINT0 0x350
#define LVT_PERIODIC (1u << 17)
#define LVT_MASKED (1u << 16)
#define LVT_EXTINT (7u << 8)

/* Where the LAPIC's registers are mapped (uncached) in the kernel half. */
#define LAPIC_VA 0xffffffffff000000ull

static volatile uint32_t *lapic;
static bool use_pic;

static uint32_t lapic_read(unsigned reg)
{
    return lapic[reg / 4];
}
static void lapic_write(unsigned reg, uint32_t v)
{
    lapic[reg / 4] = v;
}

/* Remap the 8259 pair to vectors 0x20..0x2f and mask every line. */
static void pic_init_masked(void)
{
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 0x20);
    outb(PIC2_DATA, 0x28);
    outb(PIC1_DATA, 4);
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, 1);
    outb(PIC2_DATA, 1);
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

/* Count LAPIC timer decrements during 1 ms measured by PIT channel 2
 * (one PIT period is 0.84 us: 0.1 % error, and a short busy wait). */
static uint32_t lapic_ticks_per_ms(void)
{
    uint16_t count = PIT_HZ / 1000;
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(PIT_CMD, 0xb0);                               /* ch2, lo/hi, mode 0 */
    outb(PIT_CH2, (uint8_t)count);
    outb(PIT_CH2, (uint8_t)(count >> 8));
    lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
    lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
    while (!(inb(0x61) & 0x20)) /* ch2 output goes high at 0 */
        ;
    uint32_t elapsed = 0xffffffff - lapic_read(LAPIC_TIMER_CUR);
    lapic_write(LAPIC_TIMER_INIT, 0);
    return elapsed;
}

/* Must run before the free set is handed to init: the LAPIC's page-table
 * pages come from it (bootmem_alloc_page). */
/* The PIT on IRQ 0 (vector VEC_TIMER through the 8259) at the tick rate.
 * With a local APIC present, LINT0 passes the 8259's interrupts through
 * ("virtual wire"). */
static void pit_start(bool have_lapic)
{
    use_pic = true;
    outb(PIC1_CMD, 0x11);
    outb(PIC1_DATA, VEC_TIMER); /* IRQ 0 -> VEC_TIMER */
    outb(PIC1_DATA, 4);
    outb(PIC1_DATA, 1);
    uint16_t div = (uint16_t)(PIT_HZ / (1000000 / tick_us));
    outb(PIT_CMD, 0x34);
    outb(PIT_CH0, (uint8_t)div);
    outb(PIT_CH0, (uint8_t)(div >> 8));
    if (have_lapic) {
        lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
        lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT);
    }
    outb(PIC1_DATA, 0xfe);
    LOG_OK("timer: PIT at %u Hz through the 8259%s", 1000000 / tick_us,
           have_lapic ? " (timer=pit on the command line)" : " (no local APIC)");
}

void arch_timer_init(void)
{
    const char *v;
    size_t len;
    uint64_t hz;
    /* timer_hz=N (100..50000): the tick rate, for the interrupt-storm test. */
    if (str_word_value(kernel_cmdline, "timer_hz", &v, &len) && str_parse_u64(v, len, &hz) && hz >= 100 &&
        hz <= 50000)
        tick_us = (unsigned)(1000000 / hz);
    pic_init_masked();
    bool have_lapic = cpuid(1, 0).edx & (1u << 9);
    if (!have_lapic) {
        pit_start(false);
        return;
    }
    uint64_t base = rdmsr(MSR_APIC_BASE) & 0xffffff000ull;
    if (pt_map(kernel_root(), LAPIC_VA, base, PAGE_SIZE, PAGE_SIZE,
               PTE_W | PTE_NX | PTE_PCD | PTE_PWT | PTE_G, bootmem_alloc_page) != 0)
        PANIC("cannot map the local APIC at 0x%llx", (unsigned long long)base);
    lapic = (volatile uint32_t *)LAPIC_VA;
    lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
    if (str_has_word(kernel_cmdline, "timer=pit")) {
        pit_start(true);
        return;
    }
    uint32_t per_ms = lapic_ticks_per_ms();
    uint32_t init = (uint32_t)((uint64_t)per_ms * tick_us / 1000);
    if (init == 0)
        init = 1;
    lapic_write(LAPIC_TIMER_DIV, 0x3);
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | LVT_PERIODIC);
    lapic_write(LAPIC_TIMER_INIT, init);
    LOG_OK("timer: local APIC at 0x%llx, %u counts per tick of %u us", (unsigned long long)base, init,
           tick_us);
}

void arch_timer_eoi(void)
{
    if (use_pic)
        outb(PIC1_CMD, 0x20);
    else
        lapic_write(LAPIC_EOI, 0);
}
