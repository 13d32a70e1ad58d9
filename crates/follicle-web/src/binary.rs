//! The pattern in a compact binary form, for the designer's live updates: 12 bytes a dot
//! instead of about 300 in JSON, and no parsing beyond a typed-array view in the browser.
//!
//! Media type `application/vnd.follicle.pattern`. All integers little-endian.
//!
//! | offset | size | what |
//! |---|---|---|
//! | 0 | 4 | magic `FPAT` |
//! | 4 | 2 | format version, 1 |
//! | 6 | 2 | bytes per dot record, 12 |
//! | 8 | 4 | header length `H` |
//! | 12 | `H` | header, UTF-8 JSON: the pattern without its dots (`head`, `landmarks`, `hairline`, `outline`, `zones`, `exclusions`, `sessions`, `stats`) and `dot_count` |
//! | 12 + `H` | 0–3 | zero padding to a multiple of 4 |
//! | then | 12 × `dot_count` | dot records |
//!
//! A dot record:
//!
//! | offset | type | what |
//! |---|---|---|
//! | 0 | i16 | chart x, hundredths of a mm |
//! | 2 | i16 | chart y, hundredths of a mm |
//! | 4 | u16 | needle diameter, µm |
//! | 6 | u8 | session (1-based) |
//! | 7 | u8 | zone: 0 hairline, 1 frontal, 2 temples, 3 mid_scalp, 4 crown, 5 sides_back, 6 scar |
//! | 8 | u8 | dots in its follicular unit (1–4) |
//! | 9 | u8 | hair direction, 1/256 of a turn counter-clockwise from +x |
//! | 10 | u8 | pigment strength, 0–255 for 0–1 |
//! | 11 | u8 | reserved, 0 |
//!
//! Positions lose at most 0.005 mm (a dot is 0.2–0.3 mm across), the chart spans well inside
//! ±327 mm, and the surface position can be recomputed from the chart with the head model.
//!
//! # Version 2: a delta, for the designer's drag updates
//!
//! While a design is dragged the designer holds the dots it drew last, and most of the chart
//! does not change from one pointer move to the next. A delta says which **tiles** of the
//! chart changed and gives their new dots; the browser replaces those tiles' dots and keeps
//! the rest. The tiles are squares of [`TILE_MM`] (16 mm) from the chart's origin: a dot is in
//! column ⌊x / 1600⌋ and row ⌊y / 1600⌋ of its record's hundredths of a mm, so the browser and
//! the server put every dot in the same tile.
//!
//! | offset | size | what |
//! |---|---|---|
//! | 0 | 4 | magic `FPAT` |
//! | 4 | 2 | format version, **2** |
//! | 6 | 2 | bytes per dot record, 12 |
//! | 8 | 4 | header length `H` |
//! | 12 | `H` | header, UTF-8 JSON: version 1's header (`dot_count` is the number of dots **after** the delta is applied) with `delta` and, for a design planned for a consultation, `plan` |
//! | 12 + `H` | 0–3 | zero padding to a multiple of 4 |
//! | then | 8 × `delta.tiles` | the tile table: i16 column, i16 row, u32 dots now in the tile |
//! | then | 12 × the dots listed | the dot records of the listed tiles, tile after tile in table order |
//!
//! `delta` is `{"version": v, "base": b, "tile_mm": 16, "tiles": n}`: applied to the dots of
//! version `b` it gives version `v`. A listed tile's dots replace all the dots the base had in
//! that tile (0 dots: the tile is now empty); a tile not listed keeps its dots. With `base`
//! null the delta starts from nothing and lists every tile that has dots. Tiles are listed row
//! by row (row ascending, then column), and a tile's dots keep the pattern's order: the dots
//! in that order are [`TiledDots::records`], the same whichever deltas led to them.
//!
//! `plan`, when present, is the design-plan figures (`sessions`, `total_hours`,
//! `total_dots`, `total`, `currency`) or `{"error": {"field", "message"}}` when the design
//! cannot be planned (the dots are drawn all the same).

use std::collections::BTreeMap;

use follicle_pattern::{Dot, Pattern, ZoneKind, round_half_away};
use serde::Serialize;
use serde_json::{Map, Value};

/// The media type.
pub const MEDIA_TYPE: &str = "application/vnd.follicle.pattern";
/// The magic bytes.
pub const MAGIC: &[u8; 4] = b"FPAT";
/// Bytes per dot.
pub const RECORD_BYTES: usize = 12;
/// The version of a whole pattern.
pub const PATTERN_VERSION: u16 = 1;
/// The version of a delta.
pub const DELTA_VERSION: u16 = 2;
/// The side of a delta's tiles, mm.
pub const TILE_MM: u16 = 16;
/// The side of a tile in the records' unit, hundredths of a mm.
const TILE_HUNDREDTHS: i32 = TILE_MM as i32 * 100;
/// Bytes per entry of a delta's tile table.
pub const TILE_ENTRY_BYTES: usize = 8;

#[derive(Serialize)]
struct Header<'a> {
    head: &'a follicle_pattern::Head,
    landmarks: &'a follicle_pattern::Landmarks,
    hairline: &'a follicle_pattern::Hairline,
    outline: &'a [[f64; 2]],
    zones: &'a [follicle_pattern::ZonePolygon],
    exclusions: &'a [Vec<[f64; 2]>],
    sessions: u8,
    stats: &'a follicle_pattern::PatternStats,
    dot_count: usize,
}

/// Encodes a pattern.
pub fn encode(pattern: &Pattern) -> Result<Vec<u8>, serde_json::Error> {
    let header = serde_json::to_vec(&header_of(pattern, pattern.dots.len()))?;
    let mut out = start(PATTERN_VERSION, &header, RECORD_BYTES * pattern.dots.len());
    for dot in &pattern.dots {
        out.extend_from_slice(&record(dot));
    }
    Ok(out)
}

fn header_of(pattern: &Pattern, dot_count: usize) -> Header<'_> {
    Header {
        head: &pattern.head,
        landmarks: &pattern.landmarks,
        hairline: &pattern.hairline,
        outline: &pattern.outline,
        zones: &pattern.zones,
        exclusions: &pattern.exclusions,
        sessions: pattern.sessions,
        stats: &pattern.stats,
        dot_count,
    }
}

/// The first 12 bytes, the header and its padding, with room for `body` more bytes.
fn start(version: u16, header: &[u8], body: usize) -> Vec<u8> {
    let pad = (4 - (12 + header.len()) % 4) % 4;
    let mut out = Vec::with_capacity(12 + header.len() + pad + body);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(RECORD_BYTES as u16).to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(header);
    out.resize(out.len() + pad, 0);
    out
}

fn record(dot: &Dot) -> [u8; RECORD_BYTES] {
    // `round_half_away` is `f64::round` without its library call (on every dot of every edit).
    let hundredths =
        |mm: f64| round_half_away(mm * 100.0).clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
    let zone = ZoneKind::ALL.iter().position(|&z| z == dot.zone).unwrap_or(0) as u8;
    // Directions are drawn in [0, 360): the remainder only for one that is not.
    let degrees = if (0.0..360.0).contains(&dot.direction_deg) {
        dot.direction_deg
    } else {
        dot.direction_deg.rem_euclid(360.0)
    };
    let turn = round_half_away(degrees / 360.0 * 256.0) as u32 % 256;
    let mut r = [0u8; RECORD_BYTES];
    r[0..2].copy_from_slice(&hundredths(dot.x_mm).to_le_bytes());
    r[2..4].copy_from_slice(&hundredths(dot.y_mm).to_le_bytes());
    r[4..6].copy_from_slice(
        &(round_half_away(dot.diameter_mm * 1000.0).clamp(0.0, 65535.0) as u16).to_le_bytes(),
    );
    r[6] = dot.session;
    r[7] = zone;
    r[8] = dot.unit_size;
    r[9] = turn as u8;
    r[10] = round_half_away(dot.shade.clamp(0.0, 1.0) * 255.0) as u8;
    r
}

/// One decoded dot record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DotRecord {
    /// Chart x, mm.
    pub x_mm: f64,
    /// Chart y, mm.
    pub y_mm: f64,
    /// Needle diameter, mm.
    pub diameter_mm: f64,
    /// Session.
    pub session: u8,
    /// Zone.
    pub zone: ZoneKind,
    /// Dots in its unit.
    pub unit_size: u8,
    /// Direction, degrees.
    pub direction_deg: f64,
    /// Strength, 0–1.
    pub shade: f64,
}

/// Why bytes are not an encoded pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Follicle pattern: {0}")]
pub struct DecodeError(String);

/// Decodes an encoded pattern: the header JSON and the dots.
pub fn decode(bytes: &[u8]) -> Result<(serde_json::Value, Vec<DotRecord>), DecodeError> {
    let (header, body) = split(bytes, PATTERN_VERSION)?;
    let count = dot_count(&header)?;
    if body.len() != count * RECORD_BYTES {
        return Err(DecodeError("dot records do not match dot_count".into()));
    }
    let dots = body
        .chunks_exact(RECORD_BYTES)
        .map(dot_record)
        .collect::<Result<Vec<_>, DecodeError>>()?;
    Ok((header, dots))
}

/// Reads one dot record.
pub fn dot_record(r: &[u8]) -> Result<DotRecord, DecodeError> {
    if r.len() != RECORD_BYTES {
        return Err(DecodeError(format!(
            "a dot record is {RECORD_BYTES} bytes, got {}",
            r.len()
        )));
    }
    let i16_at = |i: usize| f64::from(i16::from_le_bytes([r[i], r[i + 1]]));
    Ok(DotRecord {
        x_mm: i16_at(0) / 100.0,
        y_mm: i16_at(2) / 100.0,
        diameter_mm: f64::from(u16::from_le_bytes([r[4], r[5]])) / 1000.0,
        session: r[6],
        zone: *ZoneKind::ALL
            .get(usize::from(r[7]))
            .ok_or_else(|| DecodeError("unknown zone".into()))?,
        unit_size: r[8],
        direction_deg: f64::from(r[9]) / 256.0 * 360.0,
        shade: f64::from(r[10]) / 255.0,
    })
}

/// The header of bytes of the given version, and the bytes after it (and its padding).
fn split(bytes: &[u8], version: u16) -> Result<(Value, &[u8]), DecodeError> {
    let err = |m: &str| DecodeError(m.to_owned());
    if bytes.len() < 12 || &bytes[0..4] != MAGIC {
        return Err(err("no FPAT magic"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    if u16_at(4) != version || usize::from(u16_at(6)) != RECORD_BYTES {
        return Err(DecodeError(format!(
            "expected version {version} with {RECORD_BYTES}-byte records, got version {} with {}-byte records",
            u16_at(4),
            u16_at(6)
        )));
    }
    let h = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let header_end = 12usize
        .checked_add(h)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| err("header runs past the end"))?;
    let header: Value =
        serde_json::from_slice(&bytes[12..header_end]).map_err(|e| DecodeError(format!("header: {e}")))?;
    let start = header_end + (4 - header_end % 4) % 4;
    let body = bytes.get(start..).ok_or_else(|| err("no dot records"))?;
    Ok((header, body))
}

fn dot_count(header: &Value) -> Result<usize, DecodeError> {
    header["dot_count"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| DecodeError("header has no dot_count".into()))
}

/// A tile of the chart: a square of [`TILE_MM`] whose lower left corner is at
/// (`col` × 16 mm, `row` × 16 mm). Tiles order row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tile {
    /// Row, ⌊y / 16 mm⌋.
    pub row: i16,
    /// Column, ⌊x / 16 mm⌋.
    pub col: i16,
}

impl Tile {
    /// The tile of an encoded dot record (by its rounded position, as the browser sees it).
    pub fn of_record(r: &[u8; RECORD_BYTES]) -> Tile {
        let at = |i: usize| i32::from(i16::from_le_bytes([r[i], r[i + 1]])).div_euclid(TILE_HUNDREDTHS);
        // |i16| / 1600 fits an i16 many times over.
        Tile {
            row: at(2) as i16,
            col: at(0) as i16,
        }
    }

    /// Where the tile lies in the [`TILES_ACROSS`]² grid of every tile a record can name, row
    /// by row (the order of tiles).
    fn slot(self) -> u16 {
        let (row, col) = (i32::from(self.row) - TILE_MIN, i32::from(self.col) - TILE_MIN);
        (row * TILES_ACROSS as i32 + col) as u16
    }

    /// The tile at `slot` of that grid.
    fn of_slot(slot: usize) -> Tile {
        Tile {
            row: (slot / TILES_ACROSS) as i16 + TILE_MIN as i16,
            col: (slot % TILES_ACROSS) as i16 + TILE_MIN as i16,
        }
    }
}

/// The lowest row or column a record can name (`i16::MIN` hundredths of a mm).
const TILE_MIN: i32 = (i16::MIN as i32).div_euclid(TILE_HUNDREDTHS);
/// Rows (and columns) of tiles a record can name.
const TILES_ACROSS: usize = ((i16::MAX as i32).div_euclid(TILE_HUNDREDTHS) - TILE_MIN + 1) as usize;
// The grid's size as `TiledDots::of`'s documentation states it.
const _: () = assert!(TILES_ACROSS == 42);

/// A pattern's encoded dots by tile: what a delta is computed from and applied to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TiledDots {
    tiles: BTreeMap<Tile, Vec<u8>>,
}

impl TiledDots {
    /// The dots of a pattern, encoded and cut into tiles (each tile's dots in the pattern's order).
    ///
    /// Runs on every designer edit, for every dot of the design: a record's position is an
    /// `i16` of hundredths, so its tile lies in a fixed grid of 42 × 42 tiles, and the dots
    /// are counted per tile in one pass and copied into buffers of exactly their size in a
    /// second, with no map entry or growing buffer a dot (with them, this took about 2.7 ms of
    /// a Norwood VII edit; about 1.8 ms now, most of it making the records).
    pub fn of(pattern: &Pattern) -> TiledDots {
        let records: Vec<[u8; RECORD_BYTES]> = pattern.dots.iter().map(record).collect();
        let slots: Vec<u16> = records.iter().map(|r| Tile::of_record(r).slot()).collect();
        let mut counts = vec![0usize; TILES_ACROSS * TILES_ACROSS];
        for &s in &slots {
            counts[usize::from(s)] += 1;
        }
        let mut buffers: Vec<Vec<u8>> = counts
            .iter()
            .map(|&n| Vec::with_capacity(n * RECORD_BYTES))
            .collect();
        for (r, &s) in records.iter().zip(&slots) {
            buffers[usize::from(s)].extend_from_slice(r);
        }
        // Slots run row by row, then column by column: `Tile`'s order, so the map is built
        // from sorted keys.
        let tiles = buffers
            .into_iter()
            .enumerate()
            .filter(|(_, dots)| !dots.is_empty())
            .map(|(s, dots)| (Tile::of_slot(s), dots))
            .collect();
        TiledDots { tiles }
    }

    /// How many dots.
    pub fn dot_count(&self) -> usize {
        self.tiles.values().map(|t| t.len() / RECORD_BYTES).sum()
    }

    /// How many tiles hold dots.
    pub fn tile_count(&self) -> usize {
        self.tiles.len()
    }

    /// Every dot record, tile after tile (row by row), each tile's in the pattern's order.
    pub fn records(&self) -> Vec<u8> {
        self.tiles.values().flatten().copied().collect()
    }

    /// The tiles that differ from `base` (or all, without one), with their dots now (empty:
    /// the tile has no dots any more), in tile order.
    pub fn changes_from<'a>(&'a self, base: Option<&TiledDots>) -> Vec<(Tile, &'a [u8])> {
        let empty = BTreeMap::new();
        let old = base.map_or(&empty, |b| &b.tiles);
        let mut out: Vec<(Tile, &[u8])> = self
            .tiles
            .iter()
            .filter(|(tile, dots)| old.get(*tile) != Some(*dots))
            .map(|(tile, dots)| (*tile, dots.as_slice()))
            .collect();
        out.extend(
            old.keys()
                .filter(|tile| !self.tiles.contains_key(*tile))
                .map(|tile| (*tile, &[][..])),
        );
        out.sort_by_key(|(tile, _)| *tile);
        out
    }

    /// Applies a delta: its tiles' dots replace these tiles' (a delta without a base starts
    /// from nothing).
    pub fn apply(&mut self, delta: &Delta) {
        if delta.base.is_none() {
            self.tiles.clear();
        }
        for (tile, dots) in &delta.tiles {
            if dots.is_empty() {
                self.tiles.remove(tile);
            } else {
                self.tiles.insert(*tile, dots.clone());
            }
        }
    }
}

/// A decoded delta.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    /// The header: version 1's, with `delta` (and `plan` when there is one).
    pub header: Value,
    /// The version this delta gives.
    pub version: u64,
    /// The version it applies to (none: it starts from nothing).
    pub base: Option<u64>,
    /// The tiles it replaces, with their dot records.
    pub tiles: Vec<(Tile, Vec<u8>)>,
}

/// Encodes `pattern` (tiled: `dots`) as a delta from `base` (its version and its dots; none:
/// from nothing) to `version`. `extra` goes into the header beside `delta` (the plan).
pub fn encode_delta(
    pattern: &Pattern,
    dots: &TiledDots,
    base: Option<(u64, &TiledDots)>,
    version: u64,
    extra: Map<String, Value>,
) -> Result<Vec<u8>, serde_json::Error> {
    let changes = dots.changes_from(base.map(|(_, b)| b));
    let mut header = match serde_json::to_value(header_of(pattern, dots.dot_count()))? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    header.insert(
        "delta".into(),
        serde_json::json!({
            "version": version,
            "base": base.map(|(v, _)| v),
            "tile_mm": TILE_MM,
            "tiles": changes.len(),
        }),
    );
    header.extend(extra);
    let header = serde_json::to_vec(&header)?;
    let body: usize = changes
        .iter()
        .map(|(_, dots)| TILE_ENTRY_BYTES + dots.len())
        .sum();
    let mut out = start(DELTA_VERSION, &header, body);
    for (tile, dots) in &changes {
        out.extend_from_slice(&tile.col.to_le_bytes());
        out.extend_from_slice(&tile.row.to_le_bytes());
        out.extend_from_slice(&((dots.len() / RECORD_BYTES) as u32).to_le_bytes());
    }
    for (_, dots) in &changes {
        out.extend_from_slice(dots);
    }
    Ok(out)
}

/// Decodes a delta, checking that its tile table and records agree and that every record is
/// in the tile it is listed under.
pub fn decode_delta(bytes: &[u8]) -> Result<Delta, DecodeError> {
    let err = |m: &str| DecodeError(m.to_owned());
    let (header, body) = split(bytes, DELTA_VERSION)?;
    let delta = &header["delta"];
    let version = delta["version"]
        .as_u64()
        .ok_or_else(|| err("header has no delta.version"))?;
    let base = match &delta["base"] {
        Value::Null => None,
        b => Some(b.as_u64().ok_or_else(|| err("delta.base is not a version"))?),
    };
    if delta["tile_mm"].as_u64() != Some(u64::from(TILE_MM)) {
        return Err(err("delta.tile_mm is not 16"));
    }
    let n = delta["tiles"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| err("header has no delta.tiles"))?;
    let table_bytes = n
        .checked_mul(TILE_ENTRY_BYTES)
        .filter(|&t| t <= body.len())
        .ok_or_else(|| err("the tile table runs past the end"))?;
    let (table, mut records) = body.split_at(table_bytes);
    let mut tiles = Vec::with_capacity(n);
    for entry in table.chunks_exact(TILE_ENTRY_BYTES) {
        let tile = Tile {
            col: i16::from_le_bytes([entry[0], entry[1]]),
            row: i16::from_le_bytes([entry[2], entry[3]]),
        };
        if tiles
            .last()
            .is_some_and(|(last, _): &(Tile, Vec<u8>)| *last >= tile)
        {
            return Err(err("tiles are not listed in order"));
        }
        let count = u32::from_le_bytes([entry[4], entry[5], entry[6], entry[7]]) as usize;
        let len = count
            .checked_mul(RECORD_BYTES)
            .filter(|&l| l <= records.len())
            .ok_or_else(|| err("dot records run past the end"))?;
        let (dots, rest) = records.split_at(len);
        for r in dots.chunks_exact(RECORD_BYTES) {
            dot_record(r)?;
            let r: &[u8; RECORD_BYTES] = r.try_into().map_err(|_| err("short record"))?;
            if Tile::of_record(r) != tile {
                return Err(err("a dot record lies outside its tile"));
            }
        }
        tiles.push((tile, dots.to_vec()));
        records = rest;
    }
    if !records.is_empty() {
        return Err(err("bytes after the last tile's records"));
    }
    dot_count(&header)?;
    Ok(Delta {
        header,
        version,
        base,
        tiles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use follicle_pattern::{HairLoss, NorwoodStage, PatternRequest, ZonesSpec, generate};

    #[test]
    fn round_trip_within_the_stated_precision() {
        let request = PatternRequest {
            zones: ZonesSpec::Stage {
                stage: HairLoss::Norwood {
                    stage: NorwoodStage::III,
                },
            },
            seed: 7,
            ..PatternRequest::default()
        };
        let pattern = generate(&request).unwrap();
        let bytes = encode(&pattern).unwrap();
        let (header, dots) = decode(&bytes).unwrap();
        assert_eq!(dots.len(), pattern.dots.len());
        assert_eq!(header["sessions"], u64::from(pattern.sessions));
        assert!(header.get("dots").is_none());
        for (d, r) in pattern.dots.iter().zip(&dots) {
            assert!((d.x_mm - r.x_mm).abs() <= 0.005 + 1e-9 && (d.y_mm - r.y_mm).abs() <= 0.005 + 1e-9);
            assert!((d.diameter_mm - r.diameter_mm).abs() <= 0.0005 + 1e-9);
            assert_eq!((d.session, d.zone, d.unit_size), (r.session, r.zone, r.unit_size));
            assert!((d.shade - r.shade).abs() <= 0.5 / 255.0 + 1e-9);
            let turn = (d.direction_deg - r.direction_deg).rem_euclid(360.0);
            assert!(
                turn.min(360.0 - turn) <= 0.71,
                "{} vs {}",
                d.direction_deg,
                r.direction_deg
            );
        }
        let json = serde_json::to_vec(&pattern).unwrap();
        assert!(
            bytes.len() * 5 < json.len(),
            "binary {} vs JSON {}",
            bytes.len(),
            json.len()
        );
    }

    fn norwood(stage: NorwoodStage, seed: u64) -> PatternRequest {
        PatternRequest {
            zones: ZonesSpec::Stage {
                stage: HairLoss::Norwood { stage },
            },
            seed,
            ..PatternRequest::default()
        }
    }

    #[test]
    fn a_delta_from_nothing_holds_every_dot_in_tiles() {
        let pattern = generate(&norwood(NorwoodStage::III, 7)).unwrap();
        let tiled = TiledDots::of(&pattern);
        let bytes = encode_delta(&pattern, &tiled, None, 1, Map::new()).unwrap();
        let delta = decode_delta(&bytes).unwrap();
        assert_eq!((delta.version, delta.base), (1, None));
        assert_eq!(delta.header["dot_count"], pattern.dots.len());
        assert_eq!(delta.tiles.len(), tiled.tile_count());
        let mut got = TiledDots::default();
        got.apply(&delta);
        assert_eq!(got, tiled);
        // The same records as version 1, tile by tile.
        let mut whole: Vec<[u8; RECORD_BYTES]> = decode_records(&encode(&pattern).unwrap());
        let mut tiles: Vec<[u8; RECORD_BYTES]> = got
            .records()
            .chunks_exact(RECORD_BYTES)
            .map(|r| r.try_into().unwrap())
            .collect();
        whole.sort();
        tiles.sort();
        assert_eq!(whole, tiles);
    }

    fn decode_records(bytes: &[u8]) -> Vec<[u8; RECORD_BYTES]> {
        let (header, body) = split(bytes, PATTERN_VERSION).unwrap();
        assert_eq!(body.len(), dot_count(&header).unwrap() * RECORD_BYTES);
        body.chunks_exact(RECORD_BYTES)
            .map(|r| r.try_into().unwrap())
            .collect()
    }

    #[test]
    fn a_delta_lists_only_changed_tiles_and_applies_exactly() {
        let before = norwood(NorwoodStage::III, 7);
        let mut after = before.clone();
        // A round exclusion in the middle of the treated area: a few tiles change.
        after.exclusions = serde_json::from_value(serde_json::json!([
            {"kind": "circle", "center_mm": [0.0, 60.0], "radius_mm": 10.0}
        ]))
        .unwrap();
        let (a, b) = (generate(&before).unwrap(), generate(&after).unwrap());
        let (ta, tb) = (TiledDots::of(&a), TiledDots::of(&b));
        let bytes = encode_delta(&b, &tb, Some((4, &ta)), 5, Map::new()).unwrap();
        let delta = decode_delta(&bytes).unwrap();
        assert_eq!((delta.version, delta.base), (5, Some(4)));
        assert!(!delta.tiles.is_empty());
        let mut patched = ta.clone();
        patched.apply(&delta);
        assert_eq!(patched, tb);
        assert_eq!(patched.records(), tb.records());
        assert_eq!(delta.header["dot_count"], b.dots.len());
        // Nothing changed: nothing listed.
        let same = decode_delta(&encode_delta(&b, &tb, Some((5, &tb)), 6, Map::new()).unwrap()).unwrap();
        assert!(same.tiles.is_empty());
        // Only the tiles that differ are listed: one that loses every dot (listed empty) and
        // one that loses its first dot.
        let mut edited = tb.clone();
        let first = *tb.tiles.keys().next().unwrap();
        let second = *tb
            .tiles
            .iter()
            .filter(|(tile, _)| **tile != first)
            .max_by_key(|(_, dots)| dots.len())
            .unwrap()
            .0;
        edited.tiles.remove(&first);
        edited.tiles.get_mut(&second).unwrap().drain(..RECORD_BYTES);
        let d = decode_delta(&encode_delta(&b, &edited, Some((6, &tb)), 7, Map::new()).unwrap()).unwrap();
        assert_eq!(
            d.tiles,
            vec![(first, Vec::new()), (second, edited.tiles[&second].clone())]
        );
        assert_eq!(
            d.header["dot_count"],
            tb.dot_count() - tb.tiles[&first].len() / RECORD_BYTES - 1
        );
        let mut again = tb.clone();
        again.apply(&d);
        assert_eq!(again, edited);
    }

    /// Every tile a record can name has its own slot, in the order of tiles; and the dots of
    /// real patterns land in the tiles a map entry per dot gives, in the pattern's order.
    #[test]
    fn dots_are_cut_into_the_tiles_of_their_records() {
        let every: Vec<Tile> = (TILE_MIN..TILE_MIN + TILES_ACROSS as i32)
            .flat_map(|row| {
                (TILE_MIN..TILE_MIN + TILES_ACROSS as i32).map(move |col| Tile {
                    row: row as i16,
                    col: col as i16,
                })
            })
            .collect();
        for (s, tile) in every.iter().enumerate() {
            assert_eq!(usize::from(tile.slot()), s);
            assert_eq!(Tile::of_slot(s), *tile);
        }
        assert!(every.windows(2).all(|w| w[0] < w[1]));
        let corner = |v: i16| {
            Tile::of_record(
                &[v.to_le_bytes(), v.to_le_bytes(), [0; 2], [0; 2], [0; 2], [0; 2]]
                    .concat()
                    .try_into()
                    .unwrap(),
            )
        };
        assert_eq!(corner(i16::MIN), every[0]);
        assert_eq!(corner(i16::MAX), every[every.len() - 1]);

        let mut far = generate(&norwood(NorwoodStage::III, 3)).unwrap();
        // Dots beyond any chart, clamped into the records' range.
        far.dots[0].x_mm = -1.0e4;
        far.dots[1].y_mm = 1.0e4;
        for pattern in [generate(&norwood(NorwoodStage::VII, 11)).unwrap(), far] {
            let mut want: BTreeMap<Tile, Vec<u8>> = BTreeMap::new();
            for dot in &pattern.dots {
                let r = record(dot);
                want.entry(Tile::of_record(&r)).or_default().extend_from_slice(&r);
            }
            assert_eq!(TiledDots::of(&pattern).tiles, want);
        }
    }

    #[test]
    fn damaged_deltas_are_refused() {
        let pattern = generate(&PatternRequest::default()).unwrap();
        let tiled = TiledDots::of(&pattern);
        let bytes = encode_delta(&pattern, &tiled, None, 1, Map::new()).unwrap();
        assert!(decode_delta(&bytes).is_ok());
        assert!(decode_delta(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; RECORD_BYTES]);
        assert!(decode_delta(&longer).is_err());
        // A version 1 pattern is not a delta, nor the other way round.
        assert!(decode_delta(&encode(&pattern).unwrap()).is_err());
        assert!(decode(&bytes).is_err());
        // A record moved into another tile's entry.
        let (header, body) = split(&bytes, DELTA_VERSION).unwrap();
        let table = header["delta"]["tiles"].as_u64().unwrap() as usize * TILE_ENTRY_BYTES;
        let at = bytes.len() - body.len() + table;
        let mut moved = bytes.clone();
        let x = i16::from_le_bytes([moved[at], moved[at + 1]]).wrapping_add(TILE_HUNDREDTHS as i16);
        moved[at..at + 2].copy_from_slice(&x.to_le_bytes());
        assert!(decode_delta(&moved).is_err());
    }

    #[test]
    fn damaged_bytes_are_refused() {
        let pattern = generate(&PatternRequest::default()).unwrap();
        let bytes = encode(&pattern).unwrap();
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(b"PNG\0garbage!").is_err());
        let mut wrong = bytes.clone();
        wrong[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&wrong).is_err());
    }
}
