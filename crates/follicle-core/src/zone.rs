//! The regions of the scalp that a plan treats and a pattern fills.
//!
//! These names are shared by the planner (which sizes and prices them) and by the
//! pattern engine (which draws them on the head): one vocabulary, so a zone in a
//! plan is the same zone in a design.

use serde::{Deserialize, Serialize};

/// A region of the scalp, in the clinic's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// The 5–10 mm transition band along the front hairline: lower density, single dots.
    Hairline,
    /// The frontal forelock behind the hairline band.
    Frontal,
    /// Both temple points and the recessions beside them.
    Temples,
    /// The top of the head between the frontal zone and the crown.
    MidScalp,
    /// The vertex and the whorl around it.
    Crown,
    /// The sides and back (the fringe), where treated skin blends into existing hair.
    SidesBack,
    /// A scar (FUT strip, FUE punches, injury or surgery) with its margin.
    Scar,
}

impl ZoneKind {
    /// Every zone, front to back, scars last.
    pub const ALL: [ZoneKind; 7] = [
        ZoneKind::Hairline,
        ZoneKind::Frontal,
        ZoneKind::Temples,
        ZoneKind::MidScalp,
        ZoneKind::Crown,
        ZoneKind::SidesBack,
        ZoneKind::Scar,
    ];

    /// The snake_case name used in files, JSON and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::Hairline => "hairline",
            ZoneKind::Frontal => "frontal",
            ZoneKind::Temples => "temples",
            ZoneKind::MidScalp => "mid_scalp",
            ZoneKind::Crown => "crown",
            ZoneKind::SidesBack => "sides_back",
            ZoneKind::Scar => "scar",
        }
    }

    /// A label for people ("mid-scalp").
    pub fn label(self) -> &'static str {
        match self {
            ZoneKind::Hairline => "hairline",
            ZoneKind::Frontal => "frontal",
            ZoneKind::Temples => "temples",
            ZoneKind::MidScalp => "mid-scalp",
            ZoneKind::Crown => "crown",
            ZoneKind::SidesBack => "sides and back",
            ZoneKind::Scar => "scar",
        }
    }

    /// Parses the snake_case name; the error lists what is allowed.
    pub fn parse(name: &str) -> Result<ZoneKind, String> {
        ZoneKind::ALL
            .into_iter()
            .find(|z| z.as_str() == name)
            .ok_or_else(|| {
                let allowed: Vec<&str> = ZoneKind::ALL.iter().map(|z| z.as_str()).collect();
                format!("expected one of {}, got {name:?}", allowed.join(", "))
            })
    }
}

impl std::fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for zone in ZoneKind::ALL {
            assert_eq!(ZoneKind::parse(zone.as_str()), Ok(zone));
        }
        let err = ZoneKind::parse("forehead").unwrap_err();
        assert!(err.contains("mid_scalp") && err.contains("forehead"), "{err}");
    }
}
