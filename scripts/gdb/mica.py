# GDB helpers for Mica, in GDB's Python (sourced by build/gdbinit, which
# scripts/debug.sh writes from scripts/gdbinit.in; docs/debugging.md).
#
# Every helper reads the kernel's own variables (current, runq, runq_bits,
# ...) through the symbols of build/mica.elf, and physical
# memory through the kernel's direct map (HHDM_BASE + physical), so they
# work wherever the CPU is stopped once the kernel has built its page
# tables: in ring 0 or in ring 3 (the kernel half is mapped in every space).
#
#   mica-user [NAME|FILE|none]  which user program's symbols are loaded
#   mica-current                the running thread and its saved user state
#   mica-thread EXPR            the same for any struct thread *
#   mica-runq                   the non-empty run queues
#   mica-walk ADDR [ROOT]       a page-table walk, level by level
#   mica-tasks                  every task reachable from the scheduler
#   $mica_in(ID or "NAME")      1 when the current thread belongs to that task
import os

import gdb
import gdb.types

HHDM_BASE = 0xFFFF800000000000  # microkernel/arch/x86_64/include/arch/layout.h
HHDM_SIZE = 0x400000000000
PAGE_SHIFT = 12
PTE_ADDR_MASK = 0x000FFFFFFFFFF000
VEC_SYSCALL = 0x100
# Page-table entry bits (microkernel/arch/x86_64/include/arch/paging.h), in
# the order they are printed.
PTE_FLAGS = [(1 << 0, "P"), (1 << 1, "W"), (1 << 2, "U"), (1 << 3, "PWT"), (1 << 4, "PCD"),
             (1 << 5, "A"), (1 << 6, "D"), (1 << 7, "PS"), (1 << 8, "G"), (1 << 9, "XGRANT"),
             (1 << 63, "NX")]
PTE_P, PTE_W, PTE_U, PTE_PS, PTE_NX = 1 << 0, 1 << 1, 1 << 2, 1 << 7, 1 << 63
LEVEL_NAMES = {5: "PML5", 4: "PML4", 3: "PDPT", 2: "PD", 1: "PT"}
MICA_R_RECV = 0x02          # microkernel/abi/mica/abi.h (a #define: not in DWARF)
GENERIC_TASK_NAME = "task"  # what SYS_TASK_CREATE names every task (syscall.c)

# The user program whose symbols are loaded (a path), or None.
user_file = None


# ---- reading the kernel ----------------------------------------------------------

def kernel_objfile():
    """The objfile of the kernel: the program GDB was given with `file`."""
    name = gdb.current_progspace().filename
    for o in gdb.objfiles():
        if o.filename == name:
            return o
    raise gdb.GdbError("mica: no kernel symbols (file build/mica.elf first)")


def kvar(name):
    """The kernel variable `name` (global or file-static), looked up in the
    kernel's symbols only, so a user program's symbol of the same name (init
    and the servers share the address range 0x400000) never hides it."""
    o = kernel_objfile()
    sym = o.lookup_global_symbol(name) or o.lookup_static_symbol(name)
    if sym is None:
        raise gdb.GdbError(f"mica: the kernel has no symbol {name!r}")
    return sym.value()


def enum_names(enum):
    """{value: name} of a C enum of the kernel, e.g. 'enum thread_state'."""
    return {v: k for k, v in gdb.types.make_enum_dict(gdb.lookup_type(enum)).items()}


def enum_value(enum, name):
    """The value of enumerator `name` of a C enum of the kernel."""
    return gdb.types.make_enum_dict(gdb.lookup_type(enum))[name]


def read_u64(addr):
    """The 64-bit word at linear address addr, as an int."""
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 8)), "little")


def read_phys_u64(pa):
    """The 64-bit word at physical address pa, through the direct map."""
    if pa >= HHDM_SIZE:
        raise gdb.GdbError(f"mica: 0x{pa:x} is beyond the direct map: not a physical address")
    try:
        return read_u64(HHDM_BASE + pa)
    except gdb.MemoryError:
        raise gdb.GdbError(f"mica: physical 0x{pa:x} is not readable at HHDM_BASE+0x{pa:x} "
                           "(the kernel has not built its direct map yet?)") from None


def list_entries(head, type_name, member):
    """The struct `type_name` records linked through `member` on the list at
    `head` (a struct list value), like list_for_each + list_entry."""
    ptype = gdb.lookup_type(type_name).pointer()
    offset = next(f.bitpos // 8 for f in gdb.lookup_type(type_name).fields() if f.name == member)
    stop = int(head.address)
    node, out = head["next"], []
    while int(node) != stop and int(node) != 0 and len(out) < 4096:
        out.append(gdb.Value(int(node) - offset).cast(ptype).dereference())
        node = node["next"]
    return out


def user_program():
    """The name of the user program whose symbols are loaded ('init'), or None."""
    return os.path.basename(user_file)[:-4] if user_file else None


def symbolize(addr, task_name=None):
    """' <sym+off>' for a kernel address, ' <prog:sym+off>' for a user one
    (prog: the program whose symbols are loaded), or ''.  Every user program
    is linked at 0x400000, so a user address of a task named other than the
    loaded program is left unnamed.  The kernel names every task it creates
    for init "task", so such a task's addresses get the loaded names: the
    prefix says whose they are."""
    prog = user_program()
    if addr < HHDM_BASE:
        if prog is None or task_name not in (prog, GENERIC_TASK_NAME):
            return ""
    try:
        out = gdb.execute(f"info symbol 0x{addr:x}", to_string=True)
    except gdb.error:
        return ""
    if out.startswith("No symbol"):
        return ""
    name = out.split(" in section ")[0].replace(" + ", "+")
    return f" <{prog}:{name}>" if addr < HHDM_BASE else f" <{name}>"


def thread_summary(th):
    """One line naming thread th: id, task, state, priority."""
    states = enum_names("enum thread_state")
    state = states.get(int(th["state"]), f"state {int(th['state'])}")
    task = th["task"]
    owner = (f'task {int(task["id"])} "{task["name"].string()}"' if int(task) != 0 else "no task (dead)")
    return (f"thread {int(th['id'])} of {owner}: {state[3:].lower().replace('_', '-')}, "
            f"priority {int(th['prio'])}")


def describe_thread(th):
    """Lines describing thread th and its saved user frame."""
    lines = [thread_summary(th)]
    task = th["task"]
    name = task["name"].string() if int(task) != 0 else None
    frame = th["frame"]
    if int(frame) != 0:
        f = frame.dereference()
        rip, rsp, vector = int(f["rip"]), int(f["rsp"]), int(f["vector"])
        how = "system call" if vector == VEC_SYSCALL else f"vector {vector}"
        lines.append(f"  user RIP 0x{rip:x}{symbolize(rip, name)}  RSP 0x{rsp:x}  "
                     f"(frame at 0x{int(frame):x}, saved at its last kernel entry: {how})")
        if name and name != GENERIC_TASK_NAME and not symbolize(rip, name) and rip < HHDM_BASE:
            lines.append(f"  (names for this task's addresses: mica-user {name})")
    if int(th["in_fault"]) or int(th["state"]) == enum_value("enum thread_state", "TS_FAULT_BLOCKED"):
        lines.append(f"  fault at 0x{int(th['fault_addr']):x}, access 0x{int(th['fault_access']):x}, "
                     f"RIP 0x{int(th['fault_rip']):x}")
    if int(task) != 0:
        lines.append(f"  space: root 0x{int(task['root']):x}, CR3 value 0x{int(task['arch']['cr3']):x}")
    return lines


# ---- commands ---------------------------------------------------------------------

class MicaUser(gdb.Command):
    """Choose the user program whose symbols are loaded.
Usage: mica-user [NAME | FILE.elf | none]
NAME is a program beside the kernel (mica-user pager loads build/pager.elf);
a path ending in .elf is taken as is; none unloads.  Without an argument,
say which is loaded.  init, the pager and every server are linked at
0x400000, so one of them at a time has its names: a breakpoint at a user
address stops whichever task executes it (use a condition such as
if $mica_in(2): see help function mica_in)."""

    def __init__(self):
        super().__init__("mica-user", gdb.COMMAND_FILES, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        global user_file
        arg = arg.strip()
        if not arg:
            print(f"mica-user: {user_file or 'no user symbols loaded'}")
            return
        path = None
        if arg != "none":
            build = os.path.dirname(gdb.current_progspace().filename or ".")
            path = arg if ("/" in arg or arg.endswith(".elf")) else os.path.join(build, arg + ".elf")
            path = os.path.abspath(path)
            if not os.path.isfile(path):
                print(f"mica-user: {path} is missing (build it first); symbols unchanged")
                return
        if user_file is not None:
            gdb.execute(f"remove-symbol-file {user_file}", to_string=True)
            user_file = None
        if path is not None:
            gdb.execute(f"add-symbol-file {path}", to_string=True)
            user_file = path
        print(f"mica-user: {'user symbols from ' + path if path else 'no user symbols loaded'}")


class MicaCurrent(gdb.Command):
    """The running thread: its id, task, state, priority and saved user RIP/RSP.
Usage: mica-current
The RIP and RSP are those of the thread's trap frame (what it will return
to); when the CPU is stopped in ring 3 the live ones are $rip and $rsp."""

    def __init__(self):
        super().__init__("mica-current", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        cur = kvar("current")
        if int(cur) == 0:
            print("current: none (the CPU is idle, or init has not started yet)")
            return
        lines = describe_thread(cur.dereference())
        if int(gdb.parse_and_eval("$cs")) & 3 == 3:
            rip, rsp = int(gdb.parse_and_eval("$rip")), int(gdb.parse_and_eval("$rsp"))
            name = cur["task"]["name"].string() if int(cur["task"]) != 0 else None
            lines.append(f"  the CPU is in ring 3, in this thread: live RIP 0x{rip:x}{symbolize(rip, name)}"
                         f"  RSP 0x{rsp:x}")
        print("current: " + "\n".join(lines))


class MicaThread(gdb.Command):
    """Describe a thread like mica-current.
Usage: mica-thread EXPR    (EXPR: a struct thread *, e.g. r or current->replier)"""

    def __init__(self):
        super().__init__("mica-thread", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: mica-thread EXPR")
        th = gdb.parse_and_eval(arg).cast(gdb.lookup_type("struct thread").pointer())
        if int(th) == 0:
            print("mica-thread: NULL")
            return
        print("\n".join(describe_thread(th.dereference())))


class MicaRunq(gdb.Command):
    """The scheduler's non-empty run queues, highest priority first.
Usage: mica-runq
The running thread (mica-current) is on no queue."""

    def __init__(self):
        super().__init__("mica-runq", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        runq, bits = kvar("runq"), int(kvar("runq_bits"))
        nprio = runq.type.range()[1] + 1
        cur = kvar("current")
        print(f"runq_bits 0x{bits:016x}; running: "
              + (thread_summary(cur.dereference()) if int(cur) != 0 else "none (idle)"))
        empty = True
        for p in range(nprio - 1, -1, -1):
            threads = list_entries(runq[p], "struct thread", "queue_link")
            has_bit = bool(bits >> p & 1)
            if not threads and not has_bit:
                continue
            empty = False
            warn = "" if bool(threads) == has_bit else "  (runq_bits disagrees with the queue!)"
            print(f"  priority {p}: {len(threads)} thread(s){warn}")
            for th in threads:
                print(f"    {thread_summary(th)}")
        if empty:
            print("  every run queue is empty")


class MicaWalk(gdb.Command):
    """Walk the page tables for a virtual address.
Usage: mica-walk ADDR [ROOT]
ADDR and ROOT are expressions (quote one that has spaces).  ROOT is a CR3
value or a table's physical address (default: $cr3), the low 12 bits (the
PCID) ignored, or a struct task * or struct thread * whose space is meant
(mica-walk 0x600000000000 current->replier).  Prints
each level's index, entry and flags (P W U PWT PCD A D PS G XGRANT NX), then
the physical address, the page size and the rights that result.  Walks 4 or
5 levels as CR4.LA57 says (so it is right from kmain's first instruction on)
and reads tables through the direct map."""

    def __init__(self):
        super().__init__("mica-walk", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if len(argv) not in (1, 2):
            raise gdb.GdbError("usage: mica-walk ADDR [ROOT]")
        va = int(gdb.parse_and_eval(argv[0]).cast(gdb.lookup_type("unsigned long"))) & (2**64 - 1)
        root = walk_root(gdb.parse_and_eval(argv[1] if len(argv) == 2 else "$cr3"))
        for line in walk(va, root, cpu_paging_levels()):
            print(line)


def cpu_paging_levels():
    """4 or 5: the paging mode the CPU is in, from CR4.LA57 (bit 12).  Not the
    kernel's paging_levels, which is still 4 at kmain's entry on a 5-level
    boot: kmain sets it from the boot stub's report."""
    return 5 if int(gdb.parse_and_eval("$cr4")) >> 12 & 1 else 4


def walk_root(v):
    """The physical root table named by v: a CR3 value or physical address, or
    a struct task * / struct thread * (whose task's space is meant)."""
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR and t.target().strip_typedefs().tag in ("task", "thread"):
        if int(v) == 0:
            raise gdb.GdbError("mica-walk: the task or thread is NULL")
        task = v["task"] if t.target().strip_typedefs().tag == "thread" else v
        if int(task) == 0:
            raise gdb.GdbError("mica-walk: the thread has no task (dead)")
        v = task["arch"]["cr3"]
    return int(v.cast(gdb.lookup_type("unsigned long"))) & PTE_ADDR_MASK


def flag_names(e):
    return " ".join(name for bit, name in PTE_FLAGS if e & bit)


def walk(va, root, levels):
    """The lines of mica-walk for va under the table at physical root."""
    bits = PAGE_SHIFT + 9 * levels
    out = [f"walk 0x{va:016x} from root 0x{root:x} ({levels}-level paging)"]
    top = va >> (bits - 1)
    if top not in (0, (1 << (65 - bits)) - 1):
        out.append(f"  not canonical for {bits}-bit addresses: no translation")
        return out
    table, w, u, nx = root, True, True, False
    for level in range(levels, 0, -1):
        index = (va >> (PAGE_SHIFT + 9 * (level - 1))) & 511
        e = read_phys_u64(table + 8 * index)
        head = f"  {LEVEL_NAMES[level]:<4}[{index:3}] = 0x{e:016x}"
        if not e & PTE_P:
            out.append(f"{head}  not present")
            out.append(f"  => not mapped (no {LEVEL_NAMES[level]} entry)")
            return out
        w, u, nx = w and bool(e & PTE_W), u and bool(e & PTE_U), nx or bool(e & PTE_NX)
        leaf = level == 1 or (level <= 3 and e & PTE_PS)
        if not leaf:
            out.append(f"{head}  {flag_names(e):<22} -> table 0x{e & PTE_ADDR_MASK:x}")
            table = e & PTE_ADDR_MASK
            continue
        span = 1 << (PAGE_SHIFT + 9 * (level - 1))
        pa = (e & PTE_ADDR_MASK & ~(span - 1)) + (va & (span - 1))
        out.append(f"{head}  {flag_names(e)}")
        size = {1: "4 KiB", 2: "2 MiB", 3: "1 GiB"}[level]
        rights = ("user" if u else "kernel") + (" read-write" if w else " read-only") \
            + (" no-exec" if nx else " exec")
        out.append(f"  => physical 0x{pa:x} ({size} page, {rights})")
        return out
    return out


class MicaTasks(gdb.Command):
    """Every task the kernel can reach, by id.
Usage: mica-tasks
There is no list of all tasks in the kernel: this follows what there is —
the current thread, the run queues and the timeout list, then from each task
its threads, pager, watch notification and every handle, and from each
endpoint and notification the threads queued there.  A task that none of
these leads to (no handle names it, none of its threads is queued anywhere
reachable) is not listed."""

    def __init__(self):
        super().__init__("mica-tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        tasks = reachable_tasks()
        if not tasks:
            print("mica-tasks: no task (init has not been created yet)")
            return
        cur = kvar("current")
        cur_task = int(cur["task"]) if int(cur) != 0 else 0
        receives = {a: receive_endpoints(t) for a, t in tasks.items()}
        for addr, t in sorted(tasks.items(), key=lambda at: int(at[1]["id"])):
            mark = "*" if addr == cur_task else " "
            clients = sorted(int(c["id"]) for c in tasks.values()
                             if int(c["pager"]) != 0 and int(c["pager"]) in receives[addr])
            print(f"{mark}task {int(t['id'])} \"{t['name'].string()}\": root 0x{int(t['root']):x}, "
                  f"pcid {int(t['arch']['pcid'])}, "
                  + (f"pager endpoint 0x{int(t['pager']):x}" if int(t["pager"]) else "no pager")
                  + (f"; the pager of task {', '.join(map(str, clients))}" if clients else "")
                  + ("; dying" if int(t["dying"]) else ""))
            for th in list_entries(t["threads"], "struct thread", "task_link"):
                print(f"    {thread_summary(th)}")
        print("(* the current task)")


def handle_objects(t):
    """(object address, rights) of every used handle slot of task t."""
    if int(t["handles"]) == 0:
        return []
    slots = t["handles"]["slot"]
    return [(int(slots[i]["obj"]), int(slots[i]["rights"]))
            for i in range(1, slots.type.range()[1] + 1) if int(slots[i]["obj"]) != 0]


def receive_endpoints(t):
    """The addresses of the objects task t holds a receive right to."""
    return {obj for obj, rights in handle_objects(t) if rights & MICA_R_RECV}


def reachable_tasks():
    """{address: struct task value} of every task reachable from the scheduler."""
    types = gdb.types.make_enum_dict(gdb.lookup_type("enum mica_obj_type"))
    ptr = {types["MICA_OBJ_TASK"]: "struct task", types["MICA_OBJ_THREAD"]: "struct thread",
           types["MICA_OBJ_ENDPOINT"]: "struct endpoint",
           types["MICA_OBJ_NOTIFICATION"]: "struct notification"}
    seen, tasks, todo = set(), {}, []

    def push(addr, type_name):
        if addr != 0 and addr not in seen:
            seen.add(addr)
            todo.append(gdb.Value(addr).cast(gdb.lookup_type(type_name).pointer()).dereference())

    cur = kvar("current")
    push(int(cur), "struct thread")
    runq = kvar("runq")
    for p in range(runq.type.range()[1] + 1):
        for th in list_entries(runq[p], "struct thread", "queue_link"):
            push(int(th.address), "struct thread")
    for th in list_entries(kvar("timeouts"), "struct thread", "timer_link"):
        push(int(th.address), "struct thread")
    while todo:
        o = todo.pop()
        kind = str(o.type.strip_typedefs())
        if kind == "struct thread":
            push(int(o["task"]), "struct task")
        elif kind == "struct task":
            tasks[int(o.address)] = o
            for th in list_entries(o["threads"], "struct thread", "task_link"):
                push(int(th.address), "struct thread")
            push(int(o["pager"]), "struct endpoint")
            push(int(o["watch"]), "struct notification")
            for obj, _ in handle_objects(o):
                kobj = gdb.Value(obj).cast(gdb.lookup_type("struct kobj").pointer())
                name = ptr.get(int(kobj["type"]))
                if name:
                    push(obj, name)
        elif kind == "struct endpoint":
            for q in ("senders", "receivers"):
                for th in list_entries(o[q], "struct thread", "queue_link"):
                    push(int(th.address), "struct thread")
        elif kind == "struct notification":
            for th in list_entries(o["waiters"], "struct thread", "queue_link"):
                push(int(th.address), "struct thread")
    return tasks


class MicaIn(gdb.Function):
    """$mica_in(TASK): 1 when the current thread belongs to TASK, else 0.
TASK is a task id (2) or a name ("init"; every task init creates is named
"task" by the kernel, so use ids for those: mica-tasks lists them).  For
conditions on user-space breakpoints, which fire in every task that executes
the address:  hbreak serve_fault if $mica_in(2)  or  if !$mica_in("init")"""

    def __init__(self):
        super().__init__("mica_in")

    def invoke(self, which):
        cur = kvar("current")
        if int(cur) == 0 or int(cur["task"]) == 0:
            return 0
        task = cur["task"].dereference()
        if which.type.strip_typedefs().code == gdb.TYPE_CODE_INT:
            return int(int(task["id"]) == int(which))
        return int(task["name"].string() == which.string())


MicaUser()
MicaCurrent()
MicaThread()
MicaRunq()
MicaWalk()
MicaTasks()
MicaIn()
