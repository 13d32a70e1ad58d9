//! The verdict on a zone's density over several seeds, shared by the pattern tests and the
//! CLI's test of the example clients (`#[path]`-included there).

/// The mean of the seeds' relative density errors, and the worst seed's error counting a seed
/// within 3·√N of its N dots as 0 (the allowance the generated-profile check keeps: one seed's
/// thin zone moves by its count's noise). `seeds` holds `(relative error, dots)` pairs.
pub fn mean_and_worst(seeds: &[(f64, f64)]) -> (f64, f64) {
    let mean = seeds.iter().map(|(err, _)| err).sum::<f64>() / seeds.len().max(1) as f64;
    let worst = seeds.iter().fold(0.0f64, |a, &(err, n)| {
        a.max(if err.abs() * n.sqrt() <= 3.0 {
            0.0
        } else {
            err.abs()
        })
    });
    (mean, worst)
}
