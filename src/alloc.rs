//! The memory allocator of Quire's binaries: jemalloc, configured to hand
//! freed memory back to the OS soon, and `purge` to hand it back now.
//!
//! glibc's malloc got slower as a large build's heap fragmented (at ten
//! times the curriculum its malloc, free and `malloc_trim` were a fifth of
//! the CPU time) and kept freed memory unless trimmed. Each binary installs
//! it with `quire::allocator!()`; the library itself never picks one.

#[cfg(not(target_env = "msvc"))]
pub use tikv_jemallocator::Jemalloc;

/// jemalloc's options: a background thread returns pages unused for half a
/// second (decay), without waiting for the next allocation to do it. (One
/// arena per CPU, `percpu_arena`, measured no better at 10x, and jemalloc
/// warns on stderr where CPU affinity hides some CPUs.)
pub const OPTIONS: &std::ffi::CStr = c"background_thread:true,dirty_decay_ms:500,muzzy_decay_ms:0";

/// Installs jemalloc as the global allocator, with `OPTIONS`, in a binary.
#[macro_export]
macro_rules! allocator {
    () => {
        #[cfg(not(target_env = "msvc"))]
        #[global_allocator]
        static GLOBAL: $crate::alloc::Jemalloc = $crate::alloc::Jemalloc;

        // jemalloc reads its options from this symbol before `main`.
        #[cfg(not(target_env = "msvc"))]
        #[unsafe(export_name = "_rjem_malloc_conf")]
        static MALLOC_CONF: Option<&'static std::ffi::c_char> =
            // SAFETY: a pointer to the first byte of a 'static C string.
            Some(unsafe { &*$crate::alloc::OPTIONS.as_ptr() });
    };
}

/// Hands every arena's freed pages back to the OS now (before a step that
/// peaks on top of what the last one freed). Harmless where jemalloc is not
/// the allocator (unit tests): its arenas are then empty.
pub fn purge() {
    #[cfg(not(target_env = "msvc"))]
    // SAFETY: `arena.<MALLCTL_ARENAS_ALL>.purge` takes and returns nothing;
    // it only releases pages no allocation uses.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}
