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
