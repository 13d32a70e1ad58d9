//! Hashes every field of every dot (as bits) of 130 patterns and patches: every stage at two
//! seeds on 1 and 2 threads (which must agree), scars, exclusions, session splits, a cached
//! edit, 60 random patches and the sampler bench's graded 100k patch. A change meant to make
//! the sampler or the dot stage faster without changing its output must leave every line the
//! same: run it before and after and `diff` the two.
//!
//! `cargo run --release -p follicle-pattern --example dot_hashes > hashes.txt`
//!
//! The figures depend on the platform's libm (the surface solve's `asin`, `atan2`, …), so
//! compare runs on one machine; they are not a test.
use follicle_pattern::*;

#[path = "../tests/stages.rs"]
mod stages;
use stages::{all_stages, request};

struct Fnv(u64);
impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn u64(&mut self, v: u64) {
        for b in v.to_le_bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
    fn f(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
}

fn hash_pattern(p: &Pattern) -> (u64, usize) {
    let mut h = Fnv::new();
    for d in &p.dots {
        h.f(d.x_mm);
        h.f(d.y_mm);
        for s in d.surface_mm {
            h.f(s);
        }
        h.u64(u64::from(d.session));
        h.u64(d.zone as u64);
        h.u64(u64::from(d.unit));
        h.u64(u64::from(d.unit_size));
        h.f(d.direction_deg);
        h.f(d.diameter_mm);
        h.f(d.shade);
    }
    for b in p.to_json().bytes() {
        h.u64(u64::from(b));
    }
    (h.0, p.dots.len())
}

fn hash_patch(p: &Patch) -> (u64, usize) {
    let mut h = Fnv::new();
    for d in &p.dots {
        h.f(d.x_mm);
        h.f(d.y_mm);
        h.u64(u64::from(d.unit));
    }
    h.u64(p.sites as u64);
    (h.0, p.dots.len())
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() {
    let mut out = Vec::new();
    // Every stage, seeds 1 and 7, on 1 and 2 threads (must agree).
    for (i, stage) in all_stages().into_iter().enumerate() {
        for seed in [1u64, 7] {
            let mut req = request(stage.clone());
            req.seed = seed;
            let mut hs = Vec::new();
            for threads in [1, 2] {
                let p = PatternCache::with_threads(threads).generate(&req).unwrap();
                hs.push(hash_pattern(&p));
            }
            assert_eq!(hs[0], hs[1], "threads differ");
            out.push(format!("stage{i} seed{seed} {:016x} {}", hs[0].0, hs[0].1));
        }
    }
    // Scars, exclusions, female head, other session counts.
    let mut extra: Vec<(String, PatternRequest)> = Vec::new();
    let mut req = request(HairLoss::Norwood {
        stage: NorwoodStage::I,
    });
    req.scars = vec![stages::fut_strip()];
    extra.push(("fut".into(), req));
    let mut req = request(HairLoss::Norwood {
        stage: NorwoodStage::IIIVertex,
    });
    req.scars = vec![stages::fue_punches()];
    extra.push(("fue".into(), req));
    let mut req = request(HairLoss::Norwood {
        stage: NorwoodStage::VII,
    });
    req.exclusions = vec![Exclusion::Circle {
        center_mm: [10.0, 10.0],
        radius_mm: 4.0,
    }];
    extra.push(("excl".into(), req));
    let mut req = request(HairLoss::Ludwig { stage: 2 });
    req.head.sex = Sex::Female;
    extra.push(("ludwig2f".into(), req));
    for (k, fr) in [vec![1.0], vec![0.5, 1.0], vec![0.3, 0.6, 0.85, 1.0]]
        .into_iter()
        .enumerate()
    {
        let mut req = request(HairLoss::Norwood {
            stage: NorwoodStage::V,
        });
        req.session_fractions = fr;
        req.seed = 11 + k as u64;
        extra.push((format!("frac{k}"), req));
    }
    let mut req = request(HairLoss::Norwood {
        stage: NorwoodStage::VII,
    });
    req.density_per_cm2.crown += 5.0;
    extra.push(("crown+5".into(), req));
    for (name, req) in &extra {
        let a = hash_pattern(&PatternCache::with_threads(1).generate(req).unwrap());
        let b = hash_pattern(&PatternCache::with_threads(2).generate(req).unwrap());
        assert_eq!(a, b);
        out.push(format!("{name} {:016x} {}", a.0, a.1));
    }
    // Cache: the crown edit through a warm cache equals the fresh one above.
    let mut cache = PatternCache::with_threads(2);
    cache
        .generate(&request(HairLoss::Norwood {
            stage: NorwoodStage::VII,
        }))
        .unwrap();
    let e = hash_pattern(&cache.generate(&extra.last().unwrap().1).unwrap());
    out.push(format!("cached-crown+5 {:016x} {}", e.0, e.1));
    // Random patches.
    let mut rng = Lcg(12345);
    let settings = PatternSettings::default();
    for k in 0..60 {
        let w = 3.0 + rng.next() * 150.0;
        let h = 3.0 + rng.next() * 150.0;
        let d0 = 5.0 + rng.next() * 250.0;
        let end = if rng.next() < 0.5 {
            Some(5.0 + rng.next() * 250.0)
        } else {
            None
        };
        let units = rng.next() < 0.3;
        let seed = (rng.next() * 1e9) as u64;
        let req = PatchRequest {
            width_mm: w,
            height_mm: h,
            density_per_cm2: d0,
            end_density_per_cm2: end,
            units,
            seed,
        };
        let a = generate_patch_on(&req, &settings, 1).unwrap();
        let ha = hash_patch(&a);
        if k % 4 == 0 {
            let b = generate_patch_on(&req, &settings, 2).unwrap();
            assert_eq!(ha, hash_patch(&b));
        }
        out.push(format!("patch{k} {:016x} {}", ha.0, ha.1));
    }
    // The bench's graded 100k patch.
    let side = (100_000f64 / 80.0 * 100.0).sqrt();
    let req = PatchRequest {
        width_mm: side,
        height_mm: side,
        density_per_cm2: 40.0,
        end_density_per_cm2: Some(120.0),
        units: false,
        seed: 1,
    };
    let a = hash_patch(&generate_patch_on(&req, &settings, 2).unwrap());
    out.push(format!("graded100k {:016x} {}", a.0, a.1));
    let mut total = Fnv::new();
    for l in &out {
        println!("{l}");
        for b in l.bytes() {
            total.u64(u64::from(b));
        }
    }
    println!("cases {} total {:016x}", out.len(), total.0);
}
