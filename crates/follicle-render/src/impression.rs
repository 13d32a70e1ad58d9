//! Healed impressions: no two healed SMP dots are the same round blob.
//!
//! Close-up photos of healed SMP show soft dots of 0.5–1 mm with slightly irregular outlines:
//! the pigment settles unevenly along the needle track and the skin spreads the light round
//! it. Each dot here gets, from a hash of its index (so the same pattern always heals the
//! same way, on any machine):
//!
//! - a size drawn from a log-normal spread round its planned size (`[render.healed]
//!   size_spread`), quantised to a few classes so the splatter keeps few kernels;
//! - up to `lobes` smaller lobes, `lobe_offset` × its diameter from its centre in random
//!   directions, sharing `lobe_share` of its ink: the irregular outline. The dot's ink (its
//!   mass) is unchanged, so the tone of an area — what the seam with the fringe is measured
//!   on — is too.
//!
//! Follicular units (1–3 dots a site, clustered along the hair direction) come from the
//! pattern and are drawn as placed.

use crate::settings::RenderSettings;

/// One spot of a healed impression, relative to the dot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    /// Offset from the dot's centre, as a share of its diameter (x, y on the chart).
    pub offset: [f32; 2],
    /// Diameter as a share of the dot's planned healed diameter.
    pub size: f32,
    /// Share of the dot's ink.
    pub share: f32,
}

/// The spots of one healed impression: a main spot and its lobes.
#[derive(Debug, Clone, PartialEq)]
pub struct Impression {
    /// The main spot first; the shares add up to 1.
    pub spots: Vec<Spot>,
}

/// Standard normal quantiles at 0.1, 0.3, 0.5, 0.7 and 0.9: the size classes.
const SIZE_CLASSES: [f32; 5] = [-1.2816, -0.5244, 0.0, 0.5244, 1.2816];

/// SplitMix64: a stable hash of a dot's index and a salt.
fn hash(index: usize, salt: u64) -> u64 {
    let mut z = (index as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1) from a hash.
fn unit(h: u64) -> f32 {
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// How dot number `index` heals.
pub fn impression(index: usize, settings: &RenderSettings) -> Impression {
    let mut spots = Vec::new();
    for_each_spot(index, &Healing::new(settings), |spot| spots.push(spot));
    Impression { spots }
}

/// How far any impression reaches, for any dot: its farthest spot centre and its largest
/// spot diameter, both as shares of the dot's planned healed diameter.
pub(crate) fn extent(settings: &RenderSettings) -> (f32, f32) {
    let h = &settings.healed;
    let size = SIZE_CLASSES
        .iter()
        .map(|class| (h.size_spread * class).exp())
        .fold(0.0f32, f32::max);
    // A lobe sits at most `lobe_offset · size · (0.5 + 1)` from the centre (`unit` < 1).
    let farthest = if h.lobes == 0 {
        0.0
    } else {
        h.lobe_offset * size * (0.5 + 1.0)
    };
    (farthest, size * h.lobe_size.max(1.0))
}

/// What [`for_each_spot`] needs of the settings, with the diameters of the size classes (an
/// `exp` each) worked out once rather than once a dot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Healing<'a> {
    settings: &'a follicle_core::settings::HealedSettings,
    /// `(size_spread · class).exp()` for each of [`SIZE_CLASSES`].
    sizes: [f32; SIZE_CLASSES.len()],
}

impl<'a> Healing<'a> {
    pub(crate) fn new(settings: &'a RenderSettings) -> Healing<'a> {
        let h = &settings.healed;
        Healing {
            settings: h,
            sizes: SIZE_CLASSES.map(|class| (h.size_spread * class).exp()),
        }
    }
}

/// The spots of [`impression`]`(index, settings)`, main spot first, handed to `f` one by one:
/// the same spots without a vector per dot (the renderer draws every dot of a pattern for
/// each preview).
#[inline]
pub(crate) fn for_each_spot(index: usize, healing: &Healing<'_>, mut f: impl FnMut(Spot)) {
    let h = healing.settings;
    let size = healing.sizes[(hash(index, 1) % SIZE_CLASSES.len() as u64) as usize];
    let lobes = if h.lobes == 0 {
        0
    } else {
        (hash(index, 2) % (u64::from(h.lobes) + 1)) as usize
    };
    let lobe_share = if lobes == 0 { 0.0 } else { h.lobe_share };
    f(Spot {
        offset: [0.0, 0.0],
        size,
        share: 1.0 - lobe_share,
    });
    if lobes == 0 {
        return;
    }
    let first = unit(hash(index, 3)) * std::f32::consts::TAU;
    for k in 0..lobes {
        // Lobes spread round the dot: each a random turn from an even division of the circle.
        let jitter = (unit(hash(index, 4 + k as u64)) - 0.5) * std::f32::consts::PI / lobes as f32;
        let angle = first + k as f32 * std::f32::consts::TAU / lobes as f32 + jitter;
        let reach = h.lobe_offset * size * (0.5 + unit(hash(index, 8 + k as u64)));
        f(Spot {
            offset: [reach * angle.cos(), reach * angle.sin()],
            size: size * h.lobe_size,
            share: lobe_share / lobes as f32,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_is_kept_and_sizes_spread() {
        let s = RenderSettings::default();
        let mut sizes = std::collections::BTreeSet::new();
        let mut lobed = 0;
        for i in 0..500 {
            let imp = impression(i, &s);
            let total: f32 = imp.spots.iter().map(|p| p.share).sum();
            assert!((total - 1.0).abs() < 1e-5, "{i}: {total}");
            assert_eq!(imp, impression(i, &s), "deterministic");
            sizes.insert((imp.spots[0].size * 1000.0) as u32);
            lobed += usize::from(imp.spots.len() > 1);
        }
        assert_eq!(sizes.len(), SIZE_CLASSES.len());
        assert!(lobed > 200 && lobed < 450, "{lobed} of 500 dots have lobes");
        let round = RenderSettings {
            healed: follicle_core::settings::HealedSettings {
                lobes: 0,
                size_spread: 0.0,
                ..s.healed
            },
            ..s
        };
        let (farthest, largest) = extent(&s);
        for i in 0..500 {
            for spot in impression(i, &s).spots {
                assert!(spot.offset[0].hypot(spot.offset[1]) <= farthest && spot.size <= largest);
            }
        }
        assert_eq!(impression(3, &round).spots.len(), 1);
        assert_eq!(impression(3, &round).spots[0].size, 1.0);
    }
}
