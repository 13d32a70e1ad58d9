//! The regions of the scalp that a plan treats and a pattern fills.
//!
//! These names are shared by the planner (which sizes and prices them) and by the
//! pattern engine (which draws them on the head): one vocabulary, so a zone in a
//! plan is the same zone in a design.

use serde::{Deserialize, Serialize};

use crate::profile::{HairLoss, NorwoodStage, SAVIN_STAGES};

/// A region of the scalp, in the clinic's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Reading a hair-loss stage from a saved design or request: the client file's vocabulary
/// (`{ "scale": "norwood", "stage": "III" }`, as [`HairLoss`] is written) or the names older
/// designs used (`"norwood_3"`, `"norwood_3_vertex"`, `"ludwig_2"`, `"diffuse"`,
/// `"alopecia_areata"`, `"totalis"`, `"universalis"`). One vocabulary: there is no second enum.
impl<'de> Deserialize<'de> for HairLoss {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stage {
            Text(String),
            Number(u8),
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Tagged {
            scale: String,
            #[serde(default)]
            stage: Option<Stage>,
            #[serde(default)]
            affected_percent: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Name(String),
            Tagged(Tagged),
        }
        let repr = Repr::deserialize(deserializer)?;
        let parsed = match repr {
            Repr::Name(name) => HairLoss::from_design_name(&name),
            Repr::Tagged(t) => {
                let stage = t.stage.map(|s| match s {
                    Stage::Text(t) => t,
                    Stage::Number(n) => n.to_string(),
                });
                HairLoss::from_parts(&t.scale, stage.as_deref(), t.affected_percent)
            }
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

/// The share of the scalp an alopecia areata design saved under the old name (without a SALT
/// score) is read with: about what its three to five patches covered.
pub const LEGACY_AREATA_PERCENT: f64 = 8.0;

impl HairLoss {
    /// Reads a stage from its scale, stage and affected share (the client file's fields).
    pub fn from_parts(
        scale: &str,
        stage: Option<&str>,
        affected_percent: Option<f64>,
    ) -> Result<HairLoss, String> {
        let need_stage = || stage.ok_or_else(|| format!("hair loss {scale:?} needs a stage"));
        let percent = || match affected_percent {
            Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => Ok(p),
            Some(p) => Err(format!("affected_percent: expected 0–100, got {p}")),
            None => Err(format!("hair loss {scale:?} needs affected_percent (0–100)")),
        };
        Ok(match scale {
            "norwood" => HairLoss::Norwood {
                stage: NorwoodStage::parse(need_stage()?)?,
            },
            "ludwig" => HairLoss::Ludwig {
                stage: match need_stage()? {
                    "1" | "I" => 1,
                    "2" | "II" => 2,
                    "3" | "III" => 3,
                    other => return Err(format!("unknown Ludwig stage {other:?}: expected I, II or III")),
                },
            },
            "savin" => {
                let s = need_stage()?;
                HairLoss::Savin {
                    stage: SAVIN_STAGES.iter().copied().find(|x| *x == s).ok_or_else(|| {
                        format!(
                            "unknown Savin stage {s:?}: expected one of {}",
                            SAVIN_STAGES.join(", ")
                        )
                    })?,
                }
            }
            "diffuse" => HairLoss::Diffuse,
            "alopecia_areata" => HairLoss::AlopeciaAreata {
                affected_percent: percent()?,
            },
            "scarring_alopecia" => HairLoss::ScarringAlopecia {
                affected_percent: percent()?,
            },
            "alopecia_totalis" => HairLoss::AlopeciaTotalis,
            "alopecia_universalis" => HairLoss::AlopeciaUniversalis,
            "none" => HairLoss::None,
            other => {
                return Err(format!(
                    "unknown hair-loss scale {other:?}: expected one of norwood, ludwig, savin, diffuse, alopecia_areata, scarring_alopecia, alopecia_totalis, alopecia_universalis, none"
                ));
            }
        })
    }

    /// Reads the names older designs used for their stage (`"norwood_3_vertex"`).
    pub fn from_design_name(name: &str) -> Result<HairLoss, String> {
        let norwood = |stage| Ok(HairLoss::Norwood { stage });
        match name {
            "norwood_1" => norwood(NorwoodStage::I),
            "norwood_2" => norwood(NorwoodStage::II),
            "norwood_3" => norwood(NorwoodStage::III),
            "norwood_3_vertex" => norwood(NorwoodStage::IIIVertex),
            "norwood_4" => norwood(NorwoodStage::IV),
            "norwood_5" => norwood(NorwoodStage::V),
            "norwood_6" => norwood(NorwoodStage::VI),
            "norwood_7" => norwood(NorwoodStage::VII),
            "ludwig_1" => Ok(HairLoss::Ludwig { stage: 1 }),
            "ludwig_2" => Ok(HairLoss::Ludwig { stage: 2 }),
            "ludwig_3" => Ok(HairLoss::Ludwig { stage: 3 }),
            "diffuse" => Ok(HairLoss::Diffuse),
            "alopecia_areata" => Ok(HairLoss::AlopeciaAreata {
                affected_percent: LEGACY_AREATA_PERCENT,
            }),
            "totalis" | "alopecia_totalis" => Ok(HairLoss::AlopeciaTotalis),
            "universalis" | "alopecia_universalis" => Ok(HairLoss::AlopeciaUniversalis),
            other => Err(format!(
                "unknown stage {other:?}: expected a hair loss such as {{\"scale\": \"norwood\", \"stage\": \"III\"}} or one of norwood_1 … norwood_7, norwood_3_vertex, ludwig_1 … ludwig_3, diffuse, alopecia_areata, totalis, universalis"
            )),
        }
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

    #[test]
    fn stages_read_in_both_vocabularies() {
        let read = |json: &str| serde_json::from_str::<HairLoss>(json);
        let iii = HairLoss::Norwood {
            stage: NorwoodStage::III,
        };
        assert_eq!(read(r#""norwood_3""#).unwrap(), iii);
        assert_eq!(read(r#"{"scale":"norwood","stage":"III"}"#).unwrap(), iii);
        // What is written is read back.
        for loss in [
            iii.clone(),
            HairLoss::Ludwig { stage: 2 },
            HairLoss::Savin { stage: "II-1" },
            HairLoss::AlopeciaAreata {
                affected_percent: 40.0,
            },
            HairLoss::AlopeciaUniversalis,
        ] {
            let text = serde_json::to_string(&loss).unwrap();
            assert_eq!(read(&text).unwrap(), loss, "{text}");
        }
        let err = read(r#""norwood_9""#).unwrap_err().to_string();
        assert!(
            err.contains("norwood_9") && err.contains("norwood_3_vertex"),
            "{err}"
        );
        let err = read(r#"{"scale":"alopecia_areata"}"#).unwrap_err().to_string();
        assert!(err.contains("affected_percent"), "{err}");
    }
}
