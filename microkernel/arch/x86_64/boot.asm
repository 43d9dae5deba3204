; Mica boot stub: from the multiboot2 loader's 32-bit protected mode to the
; 64-bit higher-half kernel.  docs/boot.md walks through it step by step.
;
; GRUB enters here (on BIOS and on UEFI alike) with paging off, EAX = the
; multiboot2 magic and EBX = the physical address of the boot information.
; The stub checks the CPU, chooses 4- or 5-level paging, builds temporary
; page tables, enters long mode and calls kmain(magic, info, la57) on the
; higher-half boot stack.  The kernel replaces these tables at once.
;
; Temporary tables (all in .boot.bss, below 4 GiB, so 32-bit code can write
; them; they are part of the kernel image and so never in the free set):
;   pml4[0]   -> pdpt_low : identity map of 0..4 GiB (2 MiB pages)
;   pml4[256] -> pdpt_low : the same 4 GiB at HHDM_BASE
;   pml4[511] -> pdpt_kern: pdpt_kern[510] -> pd[0]: 0..1 GiB at KERNEL_VMA
; With LA57, pml5[0] and pml5[511] both point at pml4.

%include "asm_offsets.inc"

MB2_ARCH_I386       equ 0
COM1                equ COM1_PORT
E9                  equ E9_PORT
PTE_PW              equ PTE_P | PTE_W   ; present, writable
PTE_PWS             equ PTE_PW | PTE_PS ; present, writable, 2 MiB page

; ---------------------------------------------------------------------------
section .multiboot align=8
mb2_header:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd mb2_header_end - mb2_header
    dd -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    ; information request: cmdline, modules, memory map, framebuffer, ELF
    ; sections, ACPI RSDPs, EFI memory map, load base.  Marked optional so a
    ; loader that lacks one still boots us; the kernel checks what it got.
    align 8
.info_req:
    dw 1, 1
    dd .info_req_end - .info_req
    dd MB2_TAG_CMDLINE, MB2_TAG_MODULE, MB2_TAG_MMAP, MB2_TAG_FRAMEBUFFER
    dd MB2_TAG_ELF_SECTIONS, MB2_TAG_ACPI_OLD, MB2_TAG_ACPI_NEW
    dd MB2_TAG_EFI_MMAP, MB2_TAG_LOAD_BASE_ADDR
.info_req_end:
    ; framebuffer (optional): we can draw on a linear framebuffer of any
    ; size; 1024x768 at 32 bits per pixel (128x48 characters) preferred, else
    ; the loader's choice (GRUB: "1024x768x32,1024x768,auto").  Without it
    ; GRUB on UEFI says "no console will be available to OS".  EGA text
    ; stays acceptable (no console-flags tag), and grub.cfg keeps BIOS boots
    ; in text mode with gfxpayload=text.
    align 8
    dw 5, 1
    dd 20
    dd 1024, 768, 32
    ; modules page-aligned, so each owns whole frames
    align 8
    dw 6, 0
    dd 8
    ; end tag
    align 8
    dw 0, 0
    dd 8
mb2_header_end:

; ---------------------------------------------------------------------------
section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start:function
_start:
    cli
    cld
    mov esp, boot32_stack_top
    mov [mb_magic], eax
    mov [mb_info], ebx
    call serial_init

    cmp dword [mb_magic], MB2_BOOTLOADER_MAGIC
    jne .not_multiboot2
    call check_cpu                      ; returns only if long mode is possible
    call choose_paging                  ; sets [use_la57]
    call build_tables
    jmp enter_long_mode

.not_multiboot2:
    mov esi, msg_not_mb2
    jmp fail32

; Check CPUID for everything long mode needs; print the missing feature and
; halt if something is absent.
check_cpu:
    pushfd                              ; is CPUID there at all? (EFLAGS.ID toggles)
    pop eax
    mov ecx, eax
    xor eax, 1 << 21
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    cmp eax, ecx
    je .no_cpuid
    mov eax, 1
    cpuid
    test edx, 1 << 6                    ; PAE
    jz .no_pae
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_lm
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 29                   ; LM
    jz .no_lm
    test edx, 1 << 20                   ; NX
    jz .no_nx
    ret
.no_cpuid:
    mov esi, msg_no_cpuid
    jmp fail32
.no_pae:
    mov esi, msg_no_pae
    jmp fail32
.no_lm:
    mov esi, msg_no_lm
    jmp fail32
.no_nx:
    mov esi, msg_no_nx
    jmp fail32

; use_la57 = CPU has LA57 (CPUID.7.0:ECX[16]) and the command line does not
; hold the word "paging=4".
choose_paging:
    mov dword [use_la57], 0
    xor eax, eax
    cpuid
    cmp eax, 7
    jb .done
    mov eax, 7
    xor ecx, ecx
    cpuid
    test ecx, 1 << 16
    jz .done
    call cmdline_forces_4level
    test eax, eax
    jnz .done
    mov dword [use_la57], 1
.done:
    ret

; Return EAX = 1 when the multiboot2 command line contains the word
; "paging=4".  Every tag is bounds-checked against total_size; on anything
; odd the answer is 0 (the C parser reports the oddity later).
cmdline_forces_4level:
    push ebx
    push esi
    push edi
    mov ebx, [mb_info]
    mov edx, [ebx]                      ; total_size
    cmp edx, 16
    jb .no
    cmp edx, 0x100000                   ; sanity cap: 1 MiB of tags
    ja .no
    add edx, ebx                        ; edx = end of block
    jc .no
    lea esi, [ebx + 8]
.tag:
    lea eax, [esi + 8]
    cmp eax, edx
    ja .no
    mov ecx, [esi + 4]                  ; tag size
    cmp ecx, 8
    jb .no
    mov eax, edx
    sub eax, esi
    cmp ecx, eax
    ja .no                              ; tag runs past the block
    mov eax, [esi]
    test eax, eax
    jz .no                              ; end tag
    cmp eax, 1
    je .cmdline
    add ecx, 7
    and ecx, ~7
    add esi, ecx
    jmp .tag
.cmdline:
    lea edi, [esi + 8]                  ; string
    lea edx, [esi + ecx]                ; end of tag
    mov al, ' '                         ; previous character
.scan:
    mov ecx, edx
    sub ecx, edi
    cmp ecx, 8
    jb .no
    cmp al, ' '
    jne .next
    cmp dword [edi], 'pagi'
    jne .next
    cmp dword [edi + 4], 'ng=4'
    jne .next
    cmp ecx, 8
    je .yes                             ; tag ends right after: accept
    movzx ecx, byte [edi + 8]
    test ecx, ecx
    jz .yes
    cmp ecx, ' '
    je .yes
.next:
    mov al, [edi]
    test al, al
    jz .no
    inc edi
    jmp .scan
.yes:
    mov eax, 1
    jmp .out
.no:
    xor eax, eax
.out:
    pop edi
    pop esi
    pop ebx
    ret

; Fill the temporary tables described at the top of this file.
build_tables:
    ; pd[0..3]: 2048 entries of 2 MiB pages covering 0..4 GiB
    mov edi, boot_pd
    mov eax, PTE_PWS
    xor edx, edx                        ; high dword of the physical address
    mov ecx, 2048
.pd:
    mov [edi], eax
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    loop .pd
    ; pdpt_low[0..3] -> pd pages
    mov eax, boot_pd + PTE_PW
    mov [boot_pdpt_low + 0], eax
    add eax, 4096
    mov [boot_pdpt_low + 8], eax
    add eax, 4096
    mov [boot_pdpt_low + 16], eax
    add eax, 4096
    mov [boot_pdpt_low + 24], eax
    ; pdpt_kern[510] -> pd[0] (first GiB, where the image lives)
    mov dword [boot_pdpt_kern + 510 * 8], boot_pd + PTE_PW
    ; pml4
    mov dword [boot_pml4 + 0], boot_pdpt_low + PTE_PW
    mov dword [boot_pml4 + 256 * 8], boot_pdpt_low + PTE_PW
    mov dword [boot_pml4 + 511 * 8], boot_pdpt_kern + PTE_PW
    ; pml5 (used only with LA57)
    mov dword [boot_pml5 + 0], boot_pml4 + PTE_PW
    mov dword [boot_pml5 + 511 * 8], boot_pml4 + PTE_PW
    ret

; PAE (+LA57), CR3, EFER.LME|NXE, then CR0.PG|WP: long mode (compatibility
; submode) until the far jump loads a 64-bit code segment.  LA57 can only
; be set while paging is off, which is why this choice is made here.
enter_long_mode:
    mov eax, CR4_PAE
    mov ebx, boot_pml4
    cmp dword [use_la57], 0
    je .set
    or eax, CR4_LA57
    mov ebx, boot_pml5
.set:
    mov cr4, eax
    mov cr3, ebx
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_WP | CR0_PE
    mov cr0, eax
    lgdt [boot_gdt_ptr]
    jmp GDT_KERNEL_CS:long_mode_entry

; Print the NUL-terminated message at ESI on COM1 and port 0xE9, then halt.
fail32:
    call puts32
.halt:
    cli
    hlt
    jmp .halt

; Program COM1 for 115200 8N1, FIFO on (the values: arch/layout.h).  The
; only place the UART is programmed: console.c relies on it.
serial_init:
    mov dx, COM1 + UART_IER
    mov al, UART_IER_NONE
    out dx, al                          ; no interrupts
    mov dx, COM1 + UART_LCR
    mov al, UART_LCR_DLAB
    out dx, al                          ; DLAB on
    mov dx, COM1 + UART_DATA
    mov al, UART_DIVISOR & 0xff
    out dx, al                          ; divisor, low byte
    mov dx, COM1 + UART_IER
    mov al, UART_DIVISOR >> 8
    out dx, al                          ; divisor, high byte
    mov dx, COM1 + UART_LCR
    mov al, UART_LCR_8N1
    out dx, al                          ; 8N1, DLAB off
    mov dx, COM1 + UART_FCR
    mov al, UART_FCR_ON
    out dx, al                          ; FIFO on, cleared
    mov dx, COM1 + UART_MCR
    mov al, UART_MCR_DTR_RTS
    out dx, al                          ; DTR, RTS
    ret

; Write the string at ESI to COM1 and port 0xE9.
puts32:
.next:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, COM1 + UART_LSR
    mov ecx, UART_SPIN                  ; bounded: a missing UART must not hang us
.wait:
    in al, dx
    test al, UART_LSR_THR_EMPTY
    jnz .ready
    loop .wait
.ready:
    mov al, ah
    mov dx, COM1 + UART_DATA
    out dx, al
    out E9, al
    jmp .next
.done:
    ret

bits 64
; Still on the identity map: load data segments, then jump to the higher half.
long_mode_entry:
    mov ax, GDT_KERNEL_DS
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rax, higher_half_entry
    jmp rax

; ---------------------------------------------------------------------------
section .boot.data progbits alloc write noexec align=16
; The kernel's two descriptors at their selectors (arch/layout.h, the same
; descriptors gdt.c loads later).
boot_gdt:
    dq 0
%if GDT_KERNEL_CS != 1 * 8 || GDT_KERNEL_DS != 2 * 8
%error "boot_gdt: kernel selectors moved in arch/layout.h"
%endif
    dq GDT_DESC_KERNEL_CODE             ; GDT_KERNEL_CS
    dq GDT_DESC_KERNEL_DATA             ; GDT_KERNEL_DS
boot_gdt_ptr:
    dw boot_gdt_ptr - boot_gdt - 1
    dd boot_gdt

global mb_magic, mb_info, use_la57
mb_magic: dd 0
mb_info: dd 0
use_la57: dd 0

msg_not_mb2:  db "[FAIL] boot: not started by a multiboot2 loader (bad magic in EAX); Mica needs GRUB2 multiboot2", 13, 10, 0
msg_no_cpuid: db "[FAIL] boot: this CPU has no CPUID instruction; Mica needs an x86_64 CPU", 13, 10, 0
msg_no_pae:   db "[FAIL] boot: CPU lacks PAE (CPUID.1:EDX[6]); Mica needs an x86_64 CPU", 13, 10, 0
msg_no_lm:    db "[FAIL] boot: CPU lacks long mode (CPUID.80000001h:EDX[29]); Mica needs an x86_64 CPU", 13, 10, 0
msg_no_nx:    db "[FAIL] boot: CPU lacks NX (CPUID.80000001h:EDX[20]); Mica maps data no-execute and needs it", 13, 10, 0

; ---------------------------------------------------------------------------
section .boot.bss nobits alloc write noexec align=4096
global boot_pml5, boot_pml4
boot_pml5:      resb 4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pdpt_kern: resb 4096
boot_pd:        resb 4 * 4096
boot32_stack:   resb 4096
boot32_stack_top:

; ---------------------------------------------------------------------------
section .text
extern kmain
global higher_half_entry:function
; First 64-bit instruction in the higher half: switch to the kernel's boot
; stack and call kmain(magic, info_phys, la57).  kmain does not return.
higher_half_entry:
    mov rsp, boot_stack_top
    xor ebp, ebp                        ; ends the backtrace
    mov edi, [mb_magic]
    mov esi, [mb_info]
    mov edx, [use_la57]
    call kmain
.halt:
    cli
    hlt
    jmp .halt

section .bss nobits alloc write noexec align=16
global boot_stack, boot_stack_top
boot_stack:     resb BOOT_STACK_SIZE
boot_stack_top:
