//! [`Exclusive`]: a value in a `static` that one caller at a time may use
//! mutably, for targets without threads or thread-locals: the core's
//! scratch buffers without `std`, and an exported model's static workspace.

use core::cell::UnsafeCell;
use core::sync::atomic::AtomicBool;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// A value one caller at a time may use mutably. A second use while one is
/// under way, from the same stack or another thread, is refused
/// ([`try_with`](Exclusive::try_with)), panics ([`with`](Exclusive::with))
/// or waits ([`wait_with`](Exclusive::wait_with)); it never aliases.
pub struct Exclusive<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the `with` methods give out `&mut T` only while they hold `busy`,
// which they take with a compare-exchange (so one caller at a time across
// threads) and release when the borrow ends, so no two threads ever reach
// `T` at once; `T: Send` because the value may be used by a thread other
// than the one that used it before.
unsafe impl<T: Send> Sync for Exclusive<T> {}

impl<T> Exclusive<T> {
    pub const fn new(value: T) -> Self {
        Exclusive {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// `f` on the value, or `None` (without calling `f`) if it is in use.
    pub fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self.busy.compare_exchange(false, true, Acquire, Relaxed).is_err() {
            return None;
        }
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Release);
            }
        }
        let _done = Done(&self.busy);
        // SAFETY: `busy` was false and is now ours (the compare-exchange
        // above), so no other `&mut T` exists until `_done` releases it,
        // after `f` returns or unwinds; `f` cannot keep the borrow.
        Some(f(unsafe { &mut *self.value.get() }))
    }

    /// `f` on the value.
    ///
    /// # Panics
    /// If the value is in use (further up the stack, or on another thread).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        match self.try_with(f) {
            Some(r) => r,
            None => panic!(
                "a value was used from two places at once (specc-core without `std` runs its \
                 kernels on one thread)"
            ),
        }
    }

    /// `f` on the value, once no other caller holds it (spinning until then).
    pub fn wait_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut f = Some(f);
        loop {
            if let Some(r) = self.try_with(|v| (f.take().expect("called once"))(v)) {
                return r;
            }
            core::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn one_borrow_at_a_time_and_released_after_a_panic() {
        static CELL: Exclusive<Vec<u32>> = Exclusive::new(Vec::new());
        CELL.with(|v| v.push(1));
        let nested = std::panic::catch_unwind(|| CELL.with(|_| CELL.with(|v| v.push(2))));
        assert!(nested.is_err());
        // The panic released the flag: the value is usable again and the
        // inner borrow never ran.
        CELL.with(|v| assert_eq!(v, &[1]));
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..20 {
                        // Contention panics rather than aliasing.
                        let _ = std::panic::catch_unwind(|| CELL.with(|v| v.push(3)));
                    }
                });
            }
        });
        CELL.with(|v| assert!(v.len() > 1 && v.iter().skip(1).all(|&x| x == 3)));
    }

    #[test]
    fn try_with_refuses_a_second_borrow_and_wait_with_waits_for_it() {
        static CELL: Exclusive<u32> = Exclusive::new(0);
        assert_eq!(
            CELL.try_with(|v| CELL.try_with(|_| ()).is_none() && *v == 0),
            Some(true)
        );
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        CELL.wait_with(|v| *v += 1);
                    }
                });
            }
        });
        assert_eq!(CELL.with(|v| *v), 2000);
    }
}
