; Program and thread entry points; the C half is start.c.
;
; _start: the kernel starts a program's first thread here with RSP a
; 16-byte aligned stack top, RDI = the boot-information page or 0, RSI =
; the argument word.  mica_start(rdi, rsi) runs main and ends the thread.
;
; mica_thread_entry: threads made by mica_thread_spawn start here with RSP
; = the start block at the top of their stack.  The block is found through
; RSP, not the argument word, so the trampoline does not depend on which
; register SYS_THREAD_CREATE delivers the argument in.
;
; Both clear RBP, so a frame-pointer backtrace ends here, and call C with
; RSP 16-byte aligned as the SysV ABI asks (aligned before the call; the
; return address makes it 8 mod 16 at the callee's entry).

bits 64
default rel
section .text

extern mica_start
extern mica_thread_start

global _start:function
_start:
    xor ebp, ebp
    and rsp, -16                ; already aligned by contract; free insurance
    call mica_start             ; (bootinfo, arg), does not return
    ud2

global mica_thread_entry:function
mica_thread_entry:
    xor ebp, ebp
    mov rdi, rsp                ; the start block (16-byte aligned by mica_thread_spawn)
    call mica_thread_start      ; does not return
    ud2

; No executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
