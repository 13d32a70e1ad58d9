//! The stages and requests the pattern tests and `examples/dot_hashes.rs` share.

use follicle_pattern::*;

/// Every hair-loss stage a client file can name (alopecia areata at three SALT scores).
pub fn all_stages() -> Vec<HairLoss> {
    let mut out: Vec<HairLoss> = NorwoodStage::ALL
        .iter()
        .map(|&stage| HairLoss::Norwood { stage })
        .collect();
    out.extend((1..=3).map(|stage| HairLoss::Ludwig { stage }));
    out.extend(
        follicle_core::profile::SAVIN_STAGES
            .into_iter()
            .map(|stage| HairLoss::Savin { stage }),
    );
    out.extend([
        HairLoss::Diffuse,
        HairLoss::AlopeciaAreata {
            affected_percent: 10.0,
        },
        HairLoss::AlopeciaAreata {
            affected_percent: 40.0,
        },
        HairLoss::ScarringAlopecia {
            affected_percent: 25.0,
        },
        HairLoss::AlopeciaTotalis,
        HairLoss::AlopeciaUniversalis,
    ]);
    out
}

pub fn request(stage: HairLoss) -> PatternRequest {
    PatternRequest {
        zones: ZonesSpec::Stage { stage },
        ..PatternRequest::default()
    }
}

/// The FUT strip scar the pattern tests and the hash example draw (180 mm long, 4 mm wide).
pub fn fut_strip() -> ScarSpec {
    ScarSpec::FutStrip {
        line: None,
        length_mm: 180.0,
        height_mm: -35.0,
        width_mm: 4.0,
        margin_mm: 3.0,
    }
}

/// Fifty 0.9 mm FUE punch scars, as the pattern tests and the hash example draw them.
pub fn fue_punches() -> ScarSpec {
    ScarSpec::FuePunches {
        count: 50,
        punch_diameter_mm: 0.9,
        margin_mm: 0.5,
        donor: None,
    }
}
