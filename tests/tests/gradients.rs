//! Numeric gradient checks of the generated backward passes: every layer
//! kind, activation and loss (the models of `tests/specs/`) and every
//! example spec the code generator supports, on random inputs with several
//! seeds, in f64.
//!
//! One test per model, from `specc_tests::for_each_model!`.
//!
//! Tolerance: 1e-6 relative error (1e-5 for the large models, see `LARGE`). With h = 1e-5 in f64, a correct backward
//! pass agrees with central differences to about 1e-8 (truncation O(h^2),
//! rounding ~1e-16 / h); a wrong term, index or transpose gives errors of
//! order one. A kink of relu or a max lying within h of an input would be
//! the only legitimate miss, and random inputs make that improbable.

use specc_tests::f64 as models;
use specc_tests::support::random_batch;
use specc_train::{Model, gradcheck};

/// How hard to look: small models get three seeds, every component and
/// h = 1e-5; the large models (over `LARGE_FLOPS` in `tests/build.rs`: the
/// example CNNs, tens of thousands of relu units and max-pool windows) one seed, a sample of components and h = 1e-6, so that no
/// perturbation carries a unit across its kink, with a 1e-5 tolerance for the
/// larger rounding error of the smaller step.
struct Effort {
    seeds: &'static [u64],
    batch: usize,
    h: f64,
    components: usize,
    tolerance: f64,
}

const SMALL: Effort = Effort {
    seeds: &[1, 2, 3],
    batch: 3,
    h: 1e-5,
    components: 200,
    tolerance: 1e-6,
};

const LARGE: Effort = Effort {
    seeds: &[2],
    batch: 2,
    h: 1e-6,
    components: 24,
    tolerance: 1e-5,
};

fn check<M: Model<F = f64>>(effort: Effort) {
    for &seed in effort.seeds {
        let mut model = M::new(seed);
        let batch = effort.batch;
        let (input, targets) = random_batch::<M>(batch, seed * 7919);
        let results = gradcheck::check(
            &mut model,
            &input,
            targets.as_targets(),
            batch,
            effort.h,
            effort.components,
        );
        assert_eq!(
            results.len(),
            M::TENSORS.iter().filter(|t| t.role.trainable()).count(),
            "{}: every trainable tensor is checked",
            M::NAME
        );
        for r in results {
            assert!(
                r.max_relative_error < effort.tolerance,
                "{} seed {seed}: {} component {}: analytic {} vs numeric {} (relative error {:.2e})",
                M::NAME,
                r.name,
                r.worst_index,
                r.analytic,
                r.numeric,
                r.max_relative_error
            );
            assert!(r.checked > 0);
        }
    }
}

macro_rules! gradient_tests {
    ($($test:ident => $module:ident :: $model:ident, large = $large:literal, dropout = $dropout:literal, distinct = $distinct:tt;)*) => {
        $( gradient_test!($distinct, $test, models::$module::$model, $large); )*
    };
}

/// A test for each distinct network (see `tests/build.rs`).
macro_rules! gradient_test {
    (true, $test:ident, $model:ty, $large:literal) => {
        #[test]
        fn $test() {
            check::<$model>(if $large { LARGE } else { SMALL });
        }
    };
    (false, $($rest:tt)*) => {};
}

specc_tests::for_each_model!(gradient_tests);
