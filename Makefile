# Mica — build, boot and test.  `make help` lists the targets.
#
# No cross compiler: the host's x86_64 gcc builds the kernel in freestanding
# mode (-ffreestanding -nostdlib, no libc headers but <stdint.h>-style ones,
# -mcmodel=kernel for the top 2 GiB, -mno-red-zone because interrupts reuse
# the stack below RSP, -mgeneral-regs-only so ring 0 never touches FPU/SSE
# state).  The ELF64 output is linked with our own linker script, so nothing
# of the host's ABI leaks in.  docs/building.md says more.

BUILD   ?= build
CC      ?= gcc
NASM    ?= nasm
LD      ?= ld
PYTHON  ?= python3
QEMU    ?= qemu-system-x86_64
MEM     ?= 512M
CMDLINE ?=
# Test runs: JOBS boots at once (the machines have 2 cores).
JOBS    ?= 2
# `make run`: QEMU's window (the screen console) when there is a display
# to open it on, else none; QEMU_DISPLAY="-display none" keeps it closed.
QEMU_DISPLAY ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,-display none)

ARCH_DIR := microkernel/arch/x86_64
INCLUDES := -Imicrokernel -Imicrokernel/include -I$(ARCH_DIR)/include -Imicrokernel/abi -Ilibbase/include
WARN     := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow
KCFLAGS  := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-builtin -nostdlib -nostdinc \
            -isystem $(shell $(CC) -print-file-name=include) \
            -mno-red-zone -mgeneral-regs-only -mcmodel=kernel -fno-pic -fno-pie \
            -fno-stack-protector -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
            -fno-optimize-sibling-calls -fno-delete-null-pointer-checks -fno-asynchronous-unwind-tables \
            -fno-tree-loop-distribute-patterns -fcf-protection=none $(INCLUDES) -MMD -MP
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments
NASMFLAGS := -f elf64 -I$(BUILD)/gen/ -Werror

KERNEL_C := $(wildcard microkernel/kernel/*.c microkernel/mm/*.c microkernel/boot/*.c) \
            $(filter-out $(ARCH_DIR)/asm_offsets.c,$(wildcard $(ARCH_DIR)/*.c)) \
            $(filter-out libbase/sha1.c,$(wildcard libbase/*.c))
KERNEL_ASM := $(wildcard $(ARCH_DIR)/*.asm)
KERNEL_OBJ := $(patsubst %.c,$(BUILD)/k/%.o,$(KERNEL_C)) $(patsubst %.asm,$(BUILD)/k/%.o,$(KERNEL_ASM))
KERNEL   := $(BUILD)/mica.elf
ISO      := $(BUILD)/mica.iso
USER_LD  := $(BUILD)/user.ld

# User programs: freestanding like the kernel, but ordinary code model,
# linked at 0x400000 by libipc/user.ld.S (build/user.ld), and reaching the kernel only
# through libipc.
USER_CFLAGS := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-builtin -nostdlib -nostdinc \
            -isystem $(shell $(CC) -print-file-name=include) -fno-pic -fno-pie -fno-stack-protector \
            -fno-omit-frame-pointer -mgeneral-regs-only -fcf-protection=none -fno-asynchronous-unwind-tables \
            -fno-tree-loop-distribute-patterns -Imicrokernel/abi -Ilibipc/include -Ilibbase/include -MMD -MP
USER_LIB_OBJ := $(patsubst %.c,$(BUILD)/u/%.o,$(wildcard libipc/*.c) libbase/fmt.c libbase/str.c libbase/mem.c libbase/elf.c libbase/sha1.c libbase/status.c) \
            $(patsubst %.asm,$(BUILD)/u/%.o,$(wildcard libipc/*.asm))
INIT_OBJ := $(patsubst %.c,$(BUILD)/u/%.o,$(wildcard servers/init/*.c))
INIT     := $(BUILD)/init.elf
# The test image: init's manager objects plus the in-guest suites of
# test/guest/ (one registered table of cases, one runner; docs/testing.md).
# Every boot with test= or bench= carries it as the "init" module; the
# production init.elf above has no test code.
GUEST_OBJ := $(patsubst %.c,$(BUILD)/u/%.o,$(wildcard test/guest/*.c))
INIT_TEST := $(BUILD)/init-test.elf
PAGER_OBJ := $(patsubst %.c,$(BUILD)/u/%.o,$(wildcard servers/pager/*.c))
PAGER    := $(BUILD)/pager.elf
# The image: servers/servers.list names each module (PROGRAM NAME
# [OPTIONS] [-- WORDS]), in boot order.  Every PROGRAM but init and the
# pager is built from servers/PROGRAM/*.c into build/PROGRAM.elf, and
# MODULES, the ISO's module list ("file:command line", '+' for a space),
# is made from the lines.  SERVER_LIST=FILE boots another list.
SERVER_LIST ?= servers/servers.list
LIST_LINES := $(shell sed -e 's/\#.*//' -e '/^[[:space:]]*$$/d' $(SERVER_LIST) | \
                awk '{p=$$1; $$1=""; sub(/^ +/, ""); gsub(/ +/, "+"); print p ":" $$0}')
LIST_PROGRAMS := $(foreach l,$(LIST_LINES),$(firstword $(subst :, ,$(l))))
SERVERS  := $(sort $(filter-out init pager,$(LIST_PROGRAMS)))
# The test fixtures, each from test/guest/<name>/*.c into build/<name>.elf:
# in no default image; the harness's cases name them.
FIXTURES := crasher rtcheck
SERVER_ELFS := $(patsubst %,$(BUILD)/%.elf,$(SERVERS) $(FIXTURES))
# IMAGE=test boots the test image as init (make run IMAGE=test CMDLINE=test=ipc).
INIT_ELF := $(if $(filter test,$(IMAGE)),$(INIT_TEST),$(INIT))
MODULES  := $(subst $(BUILD)/init.elf:,$(INIT_ELF):,$(foreach l,$(LIST_LINES),$(BUILD)/$(firstword $(subst :, ,$(l))).elf:$(patsubst $(firstword $(subst :, ,$(l))):%,%,$(l))))
# The boots of make test: init and the pager only, so that no server runs
# beside a suite (the harness gives test= boots the test image); cases add
# the modules they need, the runtime case the image (IMAGE_MODULES).
BASE_MODULES := $(INIT):init $(PAGER):pager
TEST_MODULES := $(INIT_TEST):init $(PAGER):pager

# Host unit tests: every test/host/test_*.c links the host-testable sources.
HOST_CFLAGS := -std=c11 -g -O1 $(WARN) -fsanitize=address,undefined -fno-sanitize-recover=all $(INCLUDES) -I.
HOST_SRCS   := microkernel/boot/multiboot2.c microkernel/mm/physmap.c microkernel/kernel/ipc_msg.c libbase/fmt.c libbase/str.c libbase/elf.c libbase/sha1.c libbase/status.c libbase/cmdline.c
HOST_TESTS  := $(patsubst test/host/%.c,$(BUILD)/host/%,$(wildcard test/host/test_*.c))
FUZZ_TARGETS := $(patsubst test/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=c11 -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined $(INCLUDES) -I.

.PHONY: all iso run debug trace test test-host test-boot test-bochs bochs bench fuzz mutants clean help deps format \
        format-check compile_commands.json
all: deps $(KERNEL) $(INIT) $(INIT_TEST) $(PAGER) $(SERVER_ELFS) $(ISO)

help:
	@echo "make all     (the default) build the kernel, init, the test image, the pager, the servers and $(ISO)"
	@echo "make run      build and boot Mica in QEMU (serial log on this terminal; Ctrl-A X quits);"
	@echo "              ends with Mica's shutdown status when a test= boot shuts it down"
	@echo "make iso      build $(ISO) (BIOS and UEFI); it follows CMDLINE, MODULES and every input"
	@echo "make debug    QEMU halted with its GDB stub on :1234 (see docs/debugging.md)"
	@echo "make trace    QEMU with -d int,cpu_reset into $(BUILD)/trace.log (triple faults)"
	@echo "make bochs    Bochs with its debugger and the kernel's symbols (docs/bochs.md)"
	@echo "make test     everything: host unit tests, short fuzz runs, the boot matrix, Bochs;"
	@echo "              T=REGEX runs only the tests whose name matches; TAP and JUnit XML in $(BUILD)/test-logs/"
	@echo "make test-host   the host unit tests and short fuzz runs only (no emulator)"
	@echo "make test-boot   the Makefile checks, the boot matrix and Bochs (no host tests)"
	@echo "make test-bochs  the self-tests and the IPC suite under Bochs"
	@echo "make bench    IPC and system-call costs in guest instructions, beside seL4's"
	@echo "make fuzz     long libFuzzer runs (FUZZ_SECONDS per target, default 600) and the system-call fuzzer"
	@echo "make mutants  each deliberate bug of test/mutants.txt in a scratch copy: the cases that must"
	@echo "              catch it boot; a table and a score, fails below 100% (M=REGEX: some mutants)"
	@echo "make format   clang-format every C file in place (.clang-format)"
	@echo "make format-check  fail if a C file is not formatted (CI runs it before make test)"
	@echo "make compile_commands.json  the compilation database for clangd and other editors"
	@echo "make deps     install missing Debian packages (every target does this first)"
	@echo "make clean    remove $(BUILD)/"
	@echo "make help     this list"
	@echo "variables: CMDLINE='paging=4 test=all'  MEM=512M  QEMU_EXTRA=...  MODULES='FILE:ARGS ...'"
	@echo "           IMAGE=test (init is the test image, $(INIT_TEST): for CMDLINE=test=ipc and the like)"
	@echo "           T=REGEX  JOBS=2  FUZZ_SHORT_SECONDS=20  FUZZ_SECONDS=600"
	@echo "the image: one line per module in $(SERVER_LIST) (docs/servers.md); MODULES= overrides it"

# Install what is missing (Debian packages only); a no-op when all is there.
deps:
	@scripts/deps.sh

$(BUILD)/gen/asm_offsets.inc: $(ARCH_DIR)/asm_offsets.c $(wildcard $(ARCH_DIR)/include/arch/*.h) \
                            microkernel/boot/multiboot2.h microkernel/abi/mica/abi.h
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@$(CC) $(KCFLAGS) -S $< -o $(BUILD)/gen/asm_offsets.s
	@sed -n 's/.*->\([A-Za-z0-9_]*\) \$$\{0,1\}\(-\{0,1\}[0-9][0-9]*\).*/%define \1 \2/p' $(BUILD)/gen/asm_offsets.s > $@.tmp
	@mv $@.tmp $@

$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.o: %.asm $(BUILD)/gen/asm_offsets.inc
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	@$(NASM) $(NASMFLAGS) $< -o $@

# The user programs' linker script, with the user map of mica/layout.h.
$(USER_LD): libipc/user.ld.S microkernel/abi/mica/layout.h
	@mkdir -p $(dir $@)
	@$(CC) -E -P -x c -Imicrokernel/abi $< -o $@

$(BUILD)/linker.ld: $(ARCH_DIR)/linker.ld.S $(ARCH_DIR)/include/arch/layout.h
	@mkdir -p $(dir $@)
	@$(CC) -E -P -x c $(INCLUDES) $< -o $@

$(KERNEL): $(KERNEL_OBJ) $(BUILD)/linker.ld
	@echo "  LD      $@"
	@$(LD) $(KLDFLAGS) -T $(BUILD)/linker.ld -o $@ $(KERNEL_OBJ)
	@scripts/check-kernel.sh $@

$(BUILD)/u/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  UCC     $<"
	@$(CC) $(USER_CFLAGS) $(GUEST_CFLAGS) -c $< -o $@

# The suites see init's interfaces; their cases run in the order written
# (guest.h), which -fno-toplevel-reorder makes the order in the section.
$(GUEST_OBJ): GUEST_CFLAGS := -Iservers/init -fno-toplevel-reorder
# (compile_commands.json below repeats these two flags for test/guest/*.c.)

$(BUILD)/u/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  UNASM   $<"
	@$(NASM) -f elf64 -Werror $< -o $@

$(INIT): $(INIT_OBJ) $(USER_LIB_OBJ) $(USER_LD)
	@echo "  ULD     $@"
	@$(LD) -static -nostdlib -z max-page-size=0x1000 -z noexecstack -T $(USER_LD) -o $@ $(INIT_OBJ) $(USER_LIB_OBJ)

$(INIT_TEST): $(INIT_OBJ) $(GUEST_OBJ) $(USER_LIB_OBJ) $(USER_LD)
	@echo "  ULD     $@"
	@$(LD) -static -nostdlib -z max-page-size=0x1000 -z noexecstack -T $(USER_LD) -o $@ $(INIT_OBJ) $(GUEST_OBJ) $(USER_LIB_OBJ)

$(PAGER): $(PAGER_OBJ) $(USER_LIB_OBJ) $(USER_LD)
	@echo "  ULD     $@"
	@$(LD) -static -nostdlib -z max-page-size=0x1000 -z noexecstack -T $(USER_LD) -o $@ $(PAGER_OBJ) $(USER_LIB_OBJ)

define server_rule
$(BUILD)/$(1).elf: $(patsubst %.c,$(BUILD)/u/%.o,$(wildcard $(2)/$(1)/*.c)) $(USER_LIB_OBJ) $(USER_LD)
	@echo "  ULD     $$@"
	@$(LD) -static -nostdlib -z max-page-size=0x1000 -z noexecstack -T $(USER_LD) -o $$@ $$(filter %.o,$$^)
endef
$(foreach s,$(SERVERS),$(eval $(call server_rule,$(s),servers)))
$(foreach s,$(FIXTURES),$(eval $(call server_rule,$(s),test/guest)))

# Malformed ELF modules for the servers test, made by a host program.
$(BUILD)/badelf/stamp: test/badelf/gen_bad_elfs.c
	@mkdir -p $(dir $@)
	@$(CC) -std=c11 -O1 -Wall -Wextra -Werror -o $(BUILD)/badelf/gen test/badelf/gen_bad_elfs.c
	@$(BUILD)/badelf/gen $(BUILD)/badelf
	@touch $@

# The ISO follows everything it is made from: the kernel, every file named
# in MODULES (and the SERVERS' ELFs, which a MODULES given on the command
# line may name), grub.cfg.in, mkiso.sh, and the configuration: CMDLINE and
# MODULES are written to $(ISO_CONFIG) while the Makefile is read, but only
# when they differ from what it holds, so its time is when they last changed.
MODULE_FILES := $(foreach m,$(MODULES),$(firstword $(subst :, ,$(m))))
ISO_CONFIG   := $(ISO).config
ISO_CONFIG_TEXT := CMDLINE=$(CMDLINE)|MODULES=$(MODULES)
ifneq ($(filter-out clean help format format-check compile_commands.json,$(or $(MAKECMDGOALS),all)),)
$(shell mkdir -p $(dir $(ISO_CONFIG)) && printf '%s\n' '$(subst ','\'',$(ISO_CONFIG_TEXT))' > $(ISO_CONFIG).new && \
    if cmp -s $(ISO_CONFIG).new $(ISO_CONFIG); then rm -f $(ISO_CONFIG).new; else mv $(ISO_CONFIG).new $(ISO_CONFIG); fi)
endif
$(ISO_CONFIG): ;

$(ISO): $(KERNEL) $(MODULE_FILES) $(SERVER_ELFS) $(ISO_CONFIG) $(SERVER_LIST) grub/grub.cfg.in scripts/mkiso.sh
	MODULES="$(MODULES)" scripts/mkiso.sh $(KERNEL) $@ '$(subst ','\'',$(CMDLINE))'

iso: deps $(ISO)

# QEMU ends when Mica shuts down (test= boots: init's or the kernel's
# verdict through isa-debug-exit, which QEMU turns into status 33 for
# success and 35 for failure); make's status follows it.  A boot without
# test= keeps running until Ctrl-A X (QEMU's status 0).
DEBUG_EXIT := -device isa-debug-exit,iobase=0xf4,iosize=0x04
run: all
	@echo "Booting $(ISO) in QEMU; the serial log follows. Quit with Ctrl-A X."
	@echo '$(QEMU) -machine q35 -cpu max -m $(MEM) -cdrom $(ISO) $(QEMU_DISPLAY) -serial mon:stdio -no-reboot $(DEBUG_EXIT) $(QEMU_EXTRA)'
	@st=0; $(QEMU) -machine q35 -cpu max -m $(MEM) -cdrom $(ISO) $(QEMU_DISPLAY) -serial mon:stdio \
	    -no-reboot $(DEBUG_EXIT) $(QEMU_EXTRA) || st=$$?; \
	case $$st in \
	0) echo "run: QEMU quit (status 0)" ;; \
	33) echo "run: Mica shut down: success (QEMU status 33)" ;; \
	35) echo "run: Mica shut down: FAILURE (QEMU status 35)"; exit 1 ;; \
	*) echo "run: QEMU ended with status $$st"; exit 1 ;; \
	esac

debug: all
	scripts/debug.sh $(KERNEL) $(ISO)

# QEMU logging every interrupt and CPU reset to build/trace.log: for the
# triple faults and early hangs where nothing else prints.
trace: all
	@echo "Booting with -d int,cpu_reset into $(BUILD)/trace.log (Ctrl-A X quits)"
	$(QEMU) -machine q35 -cpu max -m $(MEM) -cdrom $(ISO) -display none -serial mon:stdio -no-reboot \
	    -d int,cpu_reset -D $(BUILD)/trace.log $(QEMU_EXTRA)

# Bochs with its debugger, stopped at reset, kernel and init symbols loaded (docs/bochs.md).
# BOCHS_USER=build/pager.elf loads a server's symbols instead of init's.
bochs: all
	scripts/bochs.sh $(KERNEL) $(ISO) $(BOCHS_USER)

# The Bochs checks alone: test=all, test=ipc and the debugger path (about 10 s).
test-bochs: deps $(KERNEL) $(INIT) $(INIT_TEST) $(PAGER)
	MODULES="$(BASE_MODULES)" $(PYTHON) test/bochs.py --build $(BUILD) --kernel $(KERNEL)

$(BUILD)/host/%: test/host/%.c $(HOST_SRCS) test/host/check.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HOST_CFLAGS) $< $(HOST_SRCS) -o $@

$(BUILD)/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/require.h $(HOST_SRCS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	@clang $(FUZZ_CFLAGS) $< $(HOST_SRCS) -o $@

# T=REGEX: only the tests whose name it finds (host/test_elf, fuzz/fuzz_elf,
# make/iso, make/run, bios-5level/ipc, bios/cpu-no-nx, debug/gdb, bochs/ipc;
# docs/testing.md lists them).
ONLY := $(if $(T),--only '$(subst ','\'',$(T))')

# The host unit tests and the short fuzz runs: no emulator.
test-host: deps $(HOST_TESTS) $(FUZZ_TARGETS)
	$(PYTHON) test/harness.py --build $(BUILD) --no-boot --host $(HOST_TESTS) test/bench_chart.py test/mutants_apply.py --fuzz $(FUZZ_TARGETS) $(ONLY)

# The whole suite; the last line is "N passed, N failed".
test: deps $(KERNEL) $(INIT) $(INIT_TEST) $(PAGER) $(SERVER_ELFS) $(BUILD)/badelf/stamp $(HOST_TESTS) $(FUZZ_TARGETS)
	MODULES="$(BASE_MODULES)" IMAGE_MODULES="$(MODULES)" $(PYTHON) test/harness.py --build $(BUILD) \
	    --kernel $(KERNEL) --jobs $(JOBS) --host $(HOST_TESTS) test/bench_chart.py test/mutants_apply.py --fuzz $(FUZZ_TARGETS) $(ONLY)

# Boot matrix only (quicker while working on the kernel).
test-boot: deps $(KERNEL) $(INIT) $(INIT_TEST) $(PAGER) $(SERVER_ELFS) $(BUILD)/badelf/stamp
	MODULES="$(BASE_MODULES)" IMAGE_MODULES="$(MODULES)" $(PYTHON) test/harness.py --build $(BUILD) \
	    --kernel $(KERNEL) --jobs $(JOBS) $(ONLY)

# Benchmarks in guest instructions (QEMU -icount), beside seL4's figures
# (bench/peers/sel4.tsv) and a stock Debian Linux (bench/linux/peer.py).
bench: deps $(KERNEL) $(INIT_TEST) $(PAGER)
	MODULES="$(TEST_MODULES)" $(PYTHON) scripts/bench.py --kernel $(KERNEL) --out $(BUILD)/bench

FUZZ_SECONDS ?= 600
SYSFUZZ_CALLS ?= 10000000
SYSFUZZ_SEED ?= 2026
# Long runs: each libFuzzer target for FUZZ_SECONDS, then the ring-3
# system-call fuzzer for SYSFUZZ_CALLS calls (10 million: about 20 minutes).
fuzz: deps $(FUZZ_TARGETS) $(KERNEL) $(INIT_TEST) $(PAGER)
	@for t in $(FUZZ_TARGETS); do \
	    n=$$(basename $$t | sed 's/^fuzz_//'); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	    echo "== $$t for $(FUZZ_SECONDS) s"; \
	    $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus-$$n test/fuzz/corpus/$$n || exit 1; \
	done
	@echo "== system-call fuzzer: seed $(SYSFUZZ_SEED), $(SYSFUZZ_CALLS) calls"
	@MODULES="$(TEST_MODULES)" scripts/mkiso.sh $(KERNEL) $(BUILD)/sysfuzz.iso "test=sysfuzz fuzzseed=$(SYSFUZZ_SEED) fuzzcalls=$(SYSFUZZ_CALLS)"
	@timeout 7200 $(QEMU) -machine q35 -cpu max -m 512M -cdrom $(BUILD)/sysfuzz.iso -display none -no-reboot \
	    -serial file:$(BUILD)/sysfuzz.log -device isa-debug-exit,iobase=0xf4,iosize=0x04; st=$$?; \
	    grep -a '^# sysfuzz:' $(BUILD)/sysfuzz.log | tail -3; [ $$st -eq 33 ] || { echo "sysfuzz failed (exit $$st): $(BUILD)/sysfuzz.log"; exit 1; }

# Deliberate bugs (test/mutants.txt), each in a scratch copy under $TMPDIR,
# built and booted against the cases that must catch it by name
# (scripts/mutants.py; docs/testing.md).  Not part of `make test`: about
# a minute per mutant.  M=REGEX runs only the mutants whose name matches.
mutants: deps $(KERNEL) $(INIT) $(INIT_TEST) $(PAGER) $(SERVER_ELFS) $(BUILD)/badelf/stamp
	$(PYTHON) scripts/mutants.py --build $(BUILD) $(if $(M),--only '$(subst ','\'',$(M))')

# For clangd and other editors: every C file with the flags it is compiled
# with here (scripts/compile-commands.py; .clangd drops the gcc-only ones).
compile_commands.json: Makefile scripts/compile-commands.py
	@$(PYTHON) scripts/compile-commands.py --out $@ \
	    --group '$(CC) $(KCFLAGS)' $(BUILD)/k $(KERNEL_C) $(ARCH_DIR)/asm_offsets.c \
	    --group '$(CC) $(USER_CFLAGS)' $(BUILD)/u $(sort $(wildcard libipc/*.c libbase/*.c servers/*/*.c test/guest/*/*.c)) \
	    --group '$(CC) $(USER_CFLAGS) -Iservers/init -fno-toplevel-reorder' $(BUILD)/u $(sort $(wildcard test/guest/*.c)) \
	    --group '$(CC) $(HOST_CFLAGS)' $(BUILD)/host $(wildcard test/host/*.c) \
	    --group 'clang $(FUZZ_CFLAGS)' $(BUILD)/fuzz $(wildcard test/fuzz/fuzz_*.c) \
	    --group '$(CC) -std=c11 -O1 -Wall -Wextra -Werror -Ilibbase/include' $(BUILD)/tools \
	        $(wildcard test/fuzz/gen_*.c test/badelf/*.c)

format: deps
	clang-format -i $$(git ls-files '*.c' '*.h')

# What CI runs before the tests: any C file that `make format` would change
# fails it, with clang-format's diagnostics saying where.
format-check: deps
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h') && echo "format-check: every C file is formatted"

clean:
	rm -rf $(BUILD)

# Flags live here: a change to this file rebuilds everything.
$(KERNEL_OBJ) $(BUILD)/gen/asm_offsets.inc $(USER_LIB_OBJ) $(INIT_OBJ) $(GUEST_OBJ) $(PAGER_OBJ) $(FUZZ_TARGETS) $(HOST_TESTS): Makefile
USER_ALL_OBJ := $(patsubst %.c,$(BUILD)/u/%.o,$(wildcard servers/*/*.c test/guest/*.c test/guest/*/*.c))
-include $(USER_ALL_OBJ:.o=.d)

-include $(KERNEL_OBJ:.o=.d) $(USER_LIB_OBJ:.o=.d) $(INIT_OBJ:.o=.d) $(PAGER_OBJ:.o=.d)
