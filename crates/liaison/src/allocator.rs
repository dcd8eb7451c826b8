//! Fewer heap arenas for the long-running commands. glibc's allocator gives
//! threads their own arenas, up to eight per core, and each keeps the memory
//! its threads freed: after a burst on the runtime's blocking pool an idle
//! node held several megabytes that way (a witness of 193 parties 33 MB
//! instead of 24). Two arenas are enough for a node's few busy threads. The
//! limit is a glibc tunable read when a process starts, so `serve` and
//! `demo` start themselves again with it (same process, same arguments),
//! unless the operator set `GLIBC_TUNABLES` or `MALLOC_ARENA_MAX`.

/// The tunable this module sets.
const TUNABLE: &str = "glibc.malloc.arena_max=2";

/// Set on the process started again, so it never starts itself a third
/// time: glibc erases some tunables from the environment of a program run
/// with raised privileges (e.g. file capabilities to bind port 443).
const STARTED_AGAIN: &str = "LIAISON_ALLOCATOR_SETTLED";

/// Re-executes this process with two malloc arenas, if it has not been
/// (returns only if the process already runs with its allocator settled,
/// or the re-execution failed, which costs memory, not correctness).
pub fn settle() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt as _;
        if ["GLIBC_TUNABLES", "MALLOC_ARENA_MAX", STARTED_AGAIN]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
        {
            return;
        }
        let mut args = std::env::args_os();
        let name = args.next().unwrap_or_else(|| "liaison".into());
        // /proc/self/exe is this very binary, even if its file was replaced
        // on disk since it started.
        let error = std::process::Command::new("/proc/self/exe")
            .arg0(name)
            .args(args)
            .env("GLIBC_TUNABLES", TUNABLE)
            .env(STARTED_AGAIN, "1")
            .exec();
        eprintln!("liaison: cannot limit the allocator's arenas ({error}); going on without");
    }
}
