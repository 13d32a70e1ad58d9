//! A client file, as `follicle plan` and `POST /plan` read it: the TOML parsed and validated
//! into a profile (errors rendered as the user sees them), then assessed, its zones drawn on
//! the client's head and measured, and the treatment planned and priced under the default
//! settings. Nothing may panic, whatever the file holds.
#![no_main]

use follicle_core::{ClientProfile, Settings};
use follicle_pattern::treatment::{self, DEFAULT_SEED};
use libfuzzer_sys::fuzz_target;
use time::macros::date;

fuzz_target!(|data: &[u8]| {
    // The command line refuses a file that is not UTF-8 before parsing it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = Settings::defaults();
    let today = date!(2026 - 11 - 21);
    let profile = match ClientProfile::from_toml(text, settings, today) {
        Ok(profile) => profile,
        Err(e) => {
            // The message the user sees: field, value, what is allowed, the line.
            let shown = e.in_file("client.toml").to_string();
            assert!(!shown.is_empty());
            return;
        }
    };
    match treatment::plan_client(&profile, settings, today, today, DEFAULT_SEED) {
        Ok(t) => {
            let json = serde_json::to_string(&t.plan).expect("a plan serialises");
            assert!(!json.is_empty());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
