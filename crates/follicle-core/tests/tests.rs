//! Integration tests of the core: one binary, topic modules.

use follicle_core::{ClientProfile, InputError, Plan, Settings, assess, plan};
use time::Date;
use time::macros::date;

mod bad_input;
mod clinical;
mod examples;
mod properties;

const TODAY: Date = date!(2026 - 11 - 21);

/// Parses, assesses and plans a client file's text.
fn plan_text(text: &str, settings: &Settings) -> Result<Plan, InputError> {
    let profile = ClientProfile::from_toml(text, settings, TODAY)?;
    let assessment = assess(&profile, settings, TODAY);
    Ok(plan(&assessment, settings, date!(2026 - 12 - 01)))
}

/// A minimal valid client file, to which a test adds or replaces sections.
const MINIMAL: &str = r#"[client]
age = 40
sex = "male"

[skin]
fitzpatrick = "III"

[hair]
colour = "dark_brown"

[hair_loss]
scale = "norwood"
stage = "V"

[goal]
aims = ["full_coverage"]
"#;
