// argv for the Swift runtime, without its /proc/self/maps scan.
//
// In a build with the Swift standard library linked statically, the runtime's CommandLine.cpp finds argv from a
// constructor that reads /proc/self/maps line by line with fgets + sscanf to locate the stack: measured with
// callgrind, ~110,000 instructions of a 734,000-instruction VERSION call, plus the kernel generating the maps
// text, in every execution, although the plugin never looks at its arguments. glibc hands argc and argv to
// every constructor, so these two functions (the whole of that object's interface, same semantics: an
// override set by _swift_stdlib_overrideUnsafeArgvArgc wins) keep the runtime's object out of the link.
// With the dynamic standard library (swift test) they interpose the library's, with the same answers.

static char **process_argv;
static int process_argc;
static char **override_argv;
static int override_argc;

__attribute__((constructor)) static void cs_record_argv(int argc, char **argv, char **envp) {
    (void)envp;
    process_argc = argc;
    process_argv = argv;
}

__attribute__((visibility("default"))) void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    override_argv = argv;
    override_argc = argc;
}

__attribute__((visibility("default"))) char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    if (override_argv) {
        *outArgLen = override_argc;
        return override_argv;
    }
    *outArgLen = process_argc;
    return process_argv;
}
