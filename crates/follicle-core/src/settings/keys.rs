//! Typed keys of settings tables: a table keyed by Fitzpatrick type, needle gauge, … is a
//! struct with one field per key, so serde refuses a missing or unknown key and names the
//! keys it expects.

use serde::{Deserialize, Serialize};

use crate::ZoneKind;
use crate::assess::Approach;
use crate::profile::{Fitzpatrick, HairColour, SkinType, SunExposure};

/// A struct with one field per key of a closed vocabulary, for settings tables keyed by it:
/// serde refuses a missing key ("missing field `scar`") and an unknown one ("unknown field
/// `crwn`, expected one of `hairline`, …"), and the field path is the table's.
// `$text` is a `tt`, not a `literal`: a `literal` fragment reaches derive macros wrapped in an
// invisible group, and utoipa's derive (the `openapi` feature) would not read it as a rename.
macro_rules! per_key {
    ($(#[$meta:meta])* $name:ident, $key:ty { $($variant:ident => $field:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(deny_unknown_fields)]
        pub struct $name<T> {
            $(#[doc = concat!("`", $text, "`")] #[serde(rename = $text)] pub $field: T,)+
        }

        impl<T> $name<T> {
            /// The value for a key.
            pub fn get(&self, key: $key) -> &T {
                match key { $(<$key>::$variant => &self.$field),+ }
            }

            /// The keys and values, in the vocabulary's order.
            pub fn iter(&self) -> impl Iterator<Item = ($key, &T)> {
                [$(<$key>::$variant),+].into_iter().map(move |k| (k, self.get(k)))
            }

            /// The values, in the vocabulary's order.
            pub fn values(&self) -> impl Iterator<Item = &T> {
                self.iter().map(|(_, v)| v)
            }

            /// The names of the keys, for messages.
            pub const KEYS: &'static [&'static str] = &[$($text),+];
        }

        impl<T> std::ops::Index<$key> for $name<T> {
            type Output = T;
            fn index(&self, key: $key) -> &T {
                self.get(key)
            }
        }

        impl<T> std::ops::Index<&$key> for $name<T> {
            type Output = T;
            fn index(&self, key: &$key) -> &T {
                self.get(*key)
            }
        }
    };
}

per_key!(
    /// One value per zone: `{ hairline = …, frontal = …, …, scar = … }`.
    PerZone, ZoneKind {
        Hairline => hairline = "hairline", Frontal => frontal = "frontal", Temples => temples = "temples",
        MidScalp => mid_scalp = "mid_scalp", Crown => crown = "crown", SidesBack => sides_back = "sides_back",
        Scar => scar = "scar",
    }
);
per_key!(
    /// One value per Fitzpatrick type: `{ I = …, II = …, …, VI = … }`.
    PerFitzpatrick, Fitzpatrick { I => i = "I", II => ii = "II", III => iii = "III", IV => iv = "IV", V => v = "V", VI => vi = "VI" }
);
per_key!(
    /// One value per hair colour: `{ black = …, dark_brown = …, …, white = … }`.
    PerHairColour, HairColour {
        Black => black = "black", DarkBrown => dark_brown = "dark_brown", Brown => brown = "brown",
        LightBrown => light_brown = "light_brown", Blonde => blonde = "blonde", Red => red = "red",
        Grey => grey = "grey", White => white = "white",
    }
);
per_key!(
    /// One value per level of sun exposure: `{ low = …, moderate = …, high = … }`.
    PerSunExposure, SunExposure { Low => low = "low", Moderate => moderate = "moderate", High => high = "high" }
);
per_key!(
    /// One value per skin type: `{ dry = …, normal = …, oily = … }`.
    PerSkinType, SkinType { Dry => dry = "dry", Normal => normal = "normal", Oily => oily = "oily" }
);
per_key!(
    /// One value per approach: `{ full_coverage = …, density = …, scar_camouflage = … }`.
    PerApproach, Approach {
        FullCoverage => full_coverage = "full_coverage", Density => density = "density",
        ScarCamouflage => scar_camouflage = "scar_camouflage",
    }
);
per_key!(
    /// One value per needle gauge: `{ "04" = …, "06" = …, "08" = …, "10" = …, "12" = … }`.
    PerGauge, NeedleGauge { N04 => n04 = "04", N06 => n06 = "06", N08 => n08 = "08", N10 => n10 = "10", N12 => n12 = "12" }
);

/// A number of sessions (1–12), the key of tables by plan length (`session_fractions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionCount(u8);

impl SessionCount {
    /// The most sessions a table may give values for.
    pub const MAX: usize = 12;

    /// The count, if it is 1–12.
    pub fn new(n: usize) -> Option<SessionCount> {
        u8::try_from(n)
            .ok()
            .filter(|&n| (1..=Self::MAX).contains(&usize::from(n)))
            .map(SessionCount)
    }

    /// The count.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Serialize for SessionCount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SessionCount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<usize>()
            .ok()
            .and_then(SessionCount::new)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expected a number of sessions 1–{} as the key, got {text:?}",
                    Self::MAX
                ))
            })
    }
}

/// Needle gauges (#04 … #12): the first two digits of a cartridge name such as `0603RL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
