//! Typed keys of settings tables: a table keyed by Fitzpatrick type, needle gauge, … is a
//! struct with one field per key, so serde refuses a missing or unknown key and names the
//! keys it expects.

use serde::{Deserialize, Serialize};

use crate::profile::Fitzpatrick;

/// One value per Fitzpatrick type: `{ I = …, II = …, …, VI = … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // the fields are the types
pub struct PerFitzpatrick<T> {
    #[serde(rename = "I")]
    pub i: T,
    #[serde(rename = "II")]
    pub ii: T,
    #[serde(rename = "III")]
    pub iii: T,
    #[serde(rename = "IV")]
    pub iv: T,
    #[serde(rename = "V")]
    pub v: T,
    #[serde(rename = "VI")]
    pub vi: T,
}

impl<T> PerFitzpatrick<T> {
    /// The value for a type.
    pub fn get(&self, f: Fitzpatrick) -> &T {
        match f {
            Fitzpatrick::I => &self.i,
            Fitzpatrick::II => &self.ii,
            Fitzpatrick::III => &self.iii,
            Fitzpatrick::IV => &self.iv,
            Fitzpatrick::V => &self.v,
            Fitzpatrick::VI => &self.vi,
        }
    }

    /// The values, type I first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        Fitzpatrick::ALL.into_iter().map(|f| self.get(f))
    }
}

/// Needle gauges (#04 … #12): the first two digits of a cartridge name such as `0603RL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NeedleGauge {
    /// #04.
    #[serde(rename = "04")]
    N04,
    /// #06.
    #[serde(rename = "06")]
    N06,
    /// #08.
    #[serde(rename = "08")]
    N08,
    /// #10.
    #[serde(rename = "10")]
    N10,
    /// #12.
    #[serde(rename = "12")]
    N12,
}

impl NeedleGauge {
    /// Every gauge, finest first.
    pub const ALL: [NeedleGauge; 5] = [
        NeedleGauge::N04,
        NeedleGauge::N06,
        NeedleGauge::N08,
        NeedleGauge::N10,
        NeedleGauge::N12,
    ];

    /// The two-digit name (`"06"`).
    pub fn as_str(self) -> &'static str {
        match self {
            NeedleGauge::N04 => "04",
            NeedleGauge::N06 => "06",
            NeedleGauge::N08 => "08",
            NeedleGauge::N10 => "10",
            NeedleGauge::N12 => "12",
        }
    }

    /// The gauge of a cartridge name: its first two characters (`0603RL` → #06).
    pub fn of_cartridge(name: &str) -> Option<NeedleGauge> {
        let prefix = name.get(..2)?;
        NeedleGauge::ALL.into_iter().find(|g| g.as_str() == prefix)
    }
}

/// One value per needle gauge: `{ "04" = …, "06" = …, "08" = …, "10" = …, "12" = … }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // the fields are the gauges
pub struct PerGauge<T> {
    #[serde(rename = "04")]
    pub n04: T,
    #[serde(rename = "06")]
    pub n06: T,
    #[serde(rename = "08")]
    pub n08: T,
    #[serde(rename = "10")]
    pub n10: T,
    #[serde(rename = "12")]
    pub n12: T,
}

impl<T> PerGauge<T> {
    /// The value for a gauge.
    pub fn get(&self, g: NeedleGauge) -> &T {
        match g {
            NeedleGauge::N04 => &self.n04,
            NeedleGauge::N06 => &self.n06,
            NeedleGauge::N08 => &self.n08,
            NeedleGauge::N10 => &self.n10,
            NeedleGauge::N12 => &self.n12,
        }
    }
}
