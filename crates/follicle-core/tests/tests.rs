//! Integration tests of the core: one binary, topic modules.

use follicle_core::assess::{Assessment, Measured, ZoneMeasure};
use follicle_core::{ClientProfile, InputError, Plan, Settings, ZoneKind, assess, plan};
use time::Date;
use time::macros::date;

mod bad_input;
mod clinical;
mod examples;
mod messages;
mod no_clinical_numbers;
mod properties;

const TODAY: Date = date!(2026 - 11 - 21);

/// Parses, assesses and plans a client file's text.
fn plan_text(text: &str, settings: &Settings) -> Result<Plan, InputError> {
    let profile = ClientProfile::from_toml(text, settings, TODAY)?;
    let assessment = assess(&profile, settings, TODAY);
    Ok(plan(
        &assessment,
        &measured(&assessment),
        settings,
        date!(2026 - 12 - 01),
    ))
}

/// Stand-in measures for the core's own tests (the core sits below the pattern engine, which
/// draws and measures the real zones; `follicle-pattern`'s tests check plans priced from
/// those). Every zone in scope gets an area growing with the head's circumference², at the
/// scope's density.
fn measured(a: &Assessment) -> Measured {
    let scale = (a.client.head.circumference_cm / 57.0).powi(2);
    let mut zones = Vec::new();
    let mut push = |zone: ZoneKind, area: f64| {
        let density = a.scope.density_per_cm2[&zone];
        zones.push(ZoneMeasure {
            zone,
            area_cm2: area * scale,
            dots: area * scale * density,
            density_per_cm2: density,
        });
    };
    if a.scope.hair_loss {
        push(ZoneKind::Hairline, 20.0);
        push(ZoneKind::Frontal, 60.0);
        push(ZoneKind::Crown, 50.0);
    }
    if a.scope.scars {
        push(ZoneKind::Scar, 12.0 * a.client.scars.len() as f64);
    }
    let full_area_cm2 = [
        (ZoneKind::Hairline, 20.0),
        (ZoneKind::Frontal, 70.0),
        (ZoneKind::Crown, 90.0),
    ]
    .into_iter()
    .map(|(z, a)| (z, a * scale))
    .collect();
    Measured { zones, full_area_cm2 }
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
