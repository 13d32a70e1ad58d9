//! A clinic's settings file, as `follicle --settings` and the studio's settings page read it:
//! the TOML merged over the defaults and validated (errors rendered as the user sees them).
//! Settings that pass validation are then used: one of the example clients (picked by the
//! input's length) is read, assessed, drawn and planned under them. A panic there is a gap in
//! the validation.
#![no_main]

use follicle_core::{ClientProfile, Settings};
use follicle_pattern::treatment::{self, DEFAULT_SEED};
use libfuzzer_sys::fuzz_target;
use time::macros::date;

const CLIENTS: [&str; 10] = [
    include_str!("../../examples/clients/alopecia-areata.toml"),
    include_str!("../../examples/clients/blood-thinners.toml"),
    include_str!("../../examples/clients/deferred-isotretinoin.toml"),
    include_str!("../../examples/clients/fut-strip-scar.toml"),
    include_str!("../../examples/clients/keloid-not-suitable.toml"),
    include_str!("../../examples/clients/ludwig-2-diffuse.toml"),
    include_str!("../../examples/clients/norwood-3-hairline.toml"),
    include_str!("../../examples/clients/norwood-5-uk.toml"),
    include_str!("../../examples/clients/norwood-7-full-coverage.toml"),
    include_str!("../../examples/clients/small-scar-dark-skin.toml"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = match Settings::with_overrides(text) {
        Ok(settings) => settings,
        Err(e) => {
            let shown = e.in_file("clinic.toml").to_string();
            assert!(!shown.is_empty());
            return;
        }
    };
    let today = date!(2026 - 11 - 21);
    let client = CLIENTS[data.len() % CLIENTS.len()];
    let profile = match ClientProfile::from_toml(client, &settings, today) {
        Ok(profile) => profile,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    match treatment::plan_client(&profile, &settings, today, today, DEFAULT_SEED) {
        Ok(t) => {
            let json = serde_json::to_string(&t.plan).expect("a plan serialises");
            assert!(!json.is_empty());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
