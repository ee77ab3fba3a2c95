//! Warming the lines the next touchpoints will touch: the only `unsafe` in the crate.
//!
//! At a million customers each touchpoint lands on a customer whose profile slot, timeline and
//! stage history are not in cache, and the engine waits for each line in turn. Looking a few
//! rows ahead, [`prefetch`] asks for those lines early so that the waits overlap.

/// Hints the CPU to load the cache line holding `p` into every cache level. A prefetch never
/// reads memory architecturally and never faults, so any pointer, dangling or null, is fine:
/// this is sound for every input, and a no-op off x86_64.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is a hint with no architectural effect; it does not dereference `p`.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks for the heap parts of an owned touchpoint: its key list, channel and kind names, id and
/// property list (a part that is empty has a dangling pointer, which a prefetch allows).
#[inline(always)]
pub(crate) fn touchpoint_parts(tp: &crate::Touchpoint) {
    prefetch(tp.keys.as_ptr());
    prefetch(tp.channel.as_ptr());
    prefetch(tp.kind.as_ptr());
    if let Some(id) = &tp.id {
        prefetch(id.as_ptr());
    }
    if !tp.properties.is_empty() {
        prefetch(tp.properties.as_ptr());
    }
}

/// Asks for the text of an owned touchpoint's first two keys (their kind and value), which
/// [`touchpoint_parts`] made readable.
#[inline(always)]
pub(crate) fn touchpoint_keys(tp: &crate::Touchpoint) {
    for (kind, value) in tp.keys.iter().take(2) {
        prefetch(kind.as_ptr());
        prefetch(value.as_ptr());
    }
}
