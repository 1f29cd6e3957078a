//! Cache prefetch hints, for code that knows which memory it will touch next.
//!
//! Replaying a log is bound by the latency of cache misses on a large state (a random row of
//! a million costs several misses of about 0.3 µs each on the reference machine). Asking
//! the CPU to fetch the lines of many upcoming rows at once lets those misses overlap.
//!
//! A prefetch is only a hint: it never faults, whatever the address, and never changes
//! what a program computes; on targets without the instruction it does nothing.

const LINE: usize = 64;

/// Asks the CPU to bring the cache lines of `value` (up to six) into the cache.
pub(crate) fn object<T: ?Sized>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let lines = std::mem::size_of_val(value).div_ceil(LINE).clamp(1, 6);
    for line in 0..lines {
        line_at(start.wrapping_add(line * LINE));
    }
}

/// Asks the CPU to bring an `Arc`'s reference counts (which cloning, dropping and
/// `make_mut` touch) and its value (up to eight lines in all) into the cache.
pub(crate) fn shared<T: ?Sized>(value: &std::sync::Arc<T>) {
    let start = std::sync::Arc::as_ptr(value).cast::<u8>();
    let counts = start.wrapping_sub(2 * std::mem::size_of::<usize>());
    let end = start.wrapping_add(std::mem::size_of_val(&**value));
    let lines = (end as usize - counts as usize).div_ceil(LINE).clamp(1, 8);
    for line in 0..lines {
        line_at(counts.wrapping_add(line * LINE));
    }
}

/// Asks the CPU to bring the start of a heap allocation, with the allocator's header just
/// before it (which freeing it reads), into the cache.
pub(crate) fn allocation(bytes: &[u8]) {
    line_at(bytes.as_ptr().wrapping_sub(std::mem::size_of::<usize>()));
}

/// Asks the CPU to bring the cache line holding `address` into the cache.
pub(crate) fn line_at(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `prefetcht0` is a hint that never faults and has no effect on memory, whatever
    // the address; SSE, which it belongs to, is part of every x86-64 CPU.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
