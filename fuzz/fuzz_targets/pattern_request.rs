//! A pattern request, as `POST /pattern`, a saved design and `follicle pattern` read it: the
//! JSON deserialised, validated and generated (dots sampled, statistics, the JSON answer), and
//! its zones measured as the planner measures a design. Nothing may panic, and a request the
//! engine accepts must stay within its documented bounds.
#![no_main]

use follicle_pattern::{MAX_DOTS, PatternCache, PatternRequest, treatment};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<PatternRequest>(data) else {
        return;
    };
    // One thread: the answer is the same on any number (the crate's invariant), and the
    // fuzzer shares the machine.
    match PatternCache::with_threads(1).generate(&request) {
        Ok(pattern) => {
            assert!(pattern.dots.len() as u64 <= MAX_DOTS);
            assert!(!pattern.to_json().is_empty());
            treatment::measure(&request).expect("a request that generates can be measured");
        }
        Err(e) => {
            assert!(!e.field().is_empty() || !e.to_string().is_empty());
        }
    }
});
