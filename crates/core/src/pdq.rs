//! PDQ perceptual image hashing, compatible with the reference
//! implementation (facebook/ThreatExchange `pdq/cpp`, as wrapped by Python
//! `pdqhash`): luma from RGB, two passes of a Jarosz box filter, decimation
//! to 64×64, a 16×16 corner of the 2-D DCT, one bit per coefficient above
//! the median. Arithmetic is single precision in the reference's order, so
//! hashes agree bit for bit on the same pixels; different image decoders
//! move a few bits at most.
//!
//! The hash is written as 64 hex digits in ThreatExchange order: the
//! reference's 16 words of 16 bits from the last to the first, i.e. its bit
//! vector read most-significant bit first.

use std::fmt;
use std::io::Cursor;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::CoreError;

/// Hashes of lower quality carry too little detail to match on.
pub const MIN_MATCH_QUALITY: u8 = 50;
/// The usual match threshold for PDQ.
pub const DEFAULT_MATCH_RADIUS: u32 = 31;
/// Decoding limits: no image is hashed beyond these (decompression bombs).
/// 40 megapixels covers camera photos; lookups on a node take a lower
/// bound of their own (`limits.image_megapixels`).
pub const MAX_DIMENSION: u32 = 16_384;
pub const MAX_PIXELS: u64 = 40_000_000;
/// Most a decoder may allocate: 8 bytes a pixel (16-bit RGBA) at the bound.
const DECODE_BYTES_PER_PIXEL: u64 = 8;

/// A 256-bit PDQ hash; `0[0]` holds the first 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash(pub [u64; 4]);

impl PdqHash {
    /// Parses 64 hex digits (either case).
    pub fn parse(text: &str) -> Result<PdqHash, CoreError> {
        let t = text.trim();
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::invalid(format!(
                "{:?} is not a PDQ hash: expected 64 hex digits",
                t.chars().take(80).collect::<String>()
            )));
        }
        let mut words = [0u64; 4];
        for (i, w) in words.iter_mut().enumerate() {
            // Infallible: 16 hex digits checked above always fit a u64.
            *w = u64::from_str_radix(&t[i * 16..i * 16 + 16], 16).unwrap_or(0);
        }
        Ok(PdqHash(words))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|w| format!("{w:016x}")).collect()
    }

    /// Number of differing bits.
    #[inline]
    pub fn distance(&self, other: &PdqHash) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones()
            + (self.0[1] ^ other.0[1]).count_ones()
            + (self.0[2] ^ other.0[2]).count_ones()
            + (self.0[3] ^ other.0[3]).count_ones()
    }

    /// The 16-bit slice `s` (0..16) used by multi-index hashing.
    #[inline]
    pub fn slot(&self, s: usize) -> u16 {
        (self.0[s / 4] >> (48 - 16 * (s % 4))) as u16
    }

    /// Builds the hash from the reference's 16 words (`w[0]` is bits 0–15).
    fn from_reference_words(w: &[u16; 16]) -> PdqHash {
        let mut words = [0u64; 4];
        for (k, word) in words.iter_mut().enumerate() {
            for j in 0..4 {
                *word = (*word << 16) | u64::from(w[15 - 4 * k - j]);
            }
        }
        PdqHash(words)
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({})", self.to_hex())
    }
}

impl Serialize for PdqHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// In JSON, 64 hex digits (either case).
impl utoipa::PartialSchema for PdqHash {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9A-Fa-f]{64}$"))
            .description(Some("A PDQ hash: 64 hex digits."))
            .into()
    }
}

impl utoipa::ToSchema for PdqHash {}

impl<'de> Deserialize<'de> for PdqHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // On the wire exactly 64 hex digits; only typed input is trimmed.
        if s.len() != 64 {
            return Err(serde::de::Error::custom(
                "a PDQ hash is exactly 64 hex digits",
            ));
        }
        PdqHash::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A hashed image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PdqOutput {
    pub hash: PdqHash,
    /// 0–100: how much gradient detail the image has.
    pub quality: u8,
    pub width: u32,
    pub height: u32,
}

/// Decodes an image (JPEG, PNG, WebP) of at most [`MAX_PIXELS`] and hashes it.
pub fn hash_image(bytes: &[u8]) -> Result<PdqOutput, CoreError> {
    hash_image_within(bytes, MAX_PIXELS)
}

/// Decodes an image of at most `max_pixels` (checked in the header, before
/// anything is decoded) and hashes it. Memory stays near 8 bytes a pixel:
/// the decoder's allocation is bounded by that, and each stage (decoded,
/// 8-bit RGB, luma) is dropped as soon as the next exists.
pub fn hash_image_within(bytes: &[u8], max_pixels: u64) -> Result<PdqOutput, CoreError> {
    let max_pixels = max_pixels.min(MAX_PIXELS);
    let open = || {
        image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| CoreError::invalid(format!("cannot read the image: {e}")))
    };
    let mut reader = open()?;
    if reader.format().is_none() {
        return Err(CoreError::invalid(
            "the file is not a JPEG, PNG or WebP image",
        ));
    }
    // The header alone tells the size: refuse bombs before decoding.
    let (w, h) = open()?
        .into_dimensions()
        .map_err(|e| CoreError::invalid(format!("cannot read the image: {e}")))?;
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(CoreError::invalid(format!(
            "the image is {w}×{h}: at most {max_pixels} pixels are hashed"
        )));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(max_pixels.max(1_000_000) * DECODE_BYTES_PER_PIXEL);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| CoreError::invalid(format!("cannot decode the image: {e}")))?;
    let rgb = decoded.to_rgb8();
    drop(decoded);
    let (width, height) = rgb.dimensions();
    let luma = luma_of(width as usize, height as usize, rgb.as_raw());
    drop(rgb);
    let (hash, quality) = match luma {
        Some(l) => hash_luma(l, height as usize, width as usize),
        None => (PdqHash::default(), 0),
    };
    Ok(PdqOutput {
        hash,
        quality,
        width,
        height,
    })
}

/// Hashes packed 8-bit RGB pixels, row by row.
pub fn hash_rgb(width: usize, height: usize, rgb: &[u8]) -> (PdqHash, u8) {
    match luma_of(width, height, rgb) {
        Some(luma) => hash_luma(luma, height, width),
        None => (PdqHash::default(), 0),
    }
}

/// The luma plane of packed 8-bit RGB pixels (`None` if too few pixels).
fn luma_of(width: usize, height: usize, rgb: &[u8]) -> Option<Vec<f32>> {
    let luma: Vec<f32> = rgb
        .chunks_exact(3)
        .take(width * height)
        .map(|p| {
            // The reference's Python wrapper computes luma in double precision.
            (f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114) as f32
        })
        .collect();
    (luma.len() == width * height).then_some(luma)
}

/// Hashes a luma plane (`rows` × `cols`, row-major).
pub fn hash_luma(mut luma: Vec<f32>, rows: usize, cols: usize) -> (PdqHash, u8) {
    if rows < 5 || cols < 5 || luma.len() != rows * cols {
        return (PdqHash::default(), 0);
    }
    let mut small = [[0f32; 64]; 64];
    if rows == 64 && cols == 64 {
        for (i, row) in small.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..i * 64 + 64]);
        }
    } else {
        let mut scratch = vec![0f32; rows * cols];
        let along_rows = jarosz_window(cols);
        let along_cols = jarosz_window(rows);
        for _ in 0..2 {
            for (input, output) in luma.chunks_exact(cols).zip(scratch.chunks_exact_mut(cols)) {
                box_filter(input, output, cols, 1, along_rows);
            }
            box_filter(&scratch, &mut luma, rows, cols, along_cols);
        }
        for (i, row) in small.iter_mut().enumerate() {
            let src = (((i as f64 + 0.5) * rows as f64) / 64.0) as usize;
            for (j, cell) in row.iter_mut().enumerate() {
                let col = (((j as f64 + 0.5) * cols as f64) / 64.0) as usize;
                *cell = luma[src * cols + col];
            }
        }
    }
    let quality = quality(&small);
    let dct = dct_16x16(&small);
    (bits_above_median(&dct), quality)
}

/// Box-filter window per pass: two passes cover one 64th of the dimension.
fn jarosz_window(dimension: usize) -> usize {
    dimension.div_ceil(128)
}

/// One pass of the reference's 1-D box filter over `lanes` interleaved
/// vectors of length `n` (element (p, lane) at `p * lanes + lane`): windows
/// shrink at both edges. Each lane sees exactly the reference's sequence of
/// additions, subtractions and divisions.
fn box_filter(input: &[f32], output: &mut [f32], n: usize, lanes: usize, window: usize) {
    let half = (window + 2) / 2;
    let mut sums = vec![0f32; lanes];
    let mut size = 0usize;
    let (mut left, mut right, mut out) = (0usize, 0usize, 0usize);
    let row = |p: usize| &input[p * lanes..p * lanes + lanes];
    let write = |output: &mut [f32], p: usize, sums: &[f32], size: usize| {
        for (o, s) in output[p * lanes..p * lanes + lanes].iter_mut().zip(sums) {
            *o = s / size as f32;
        }
    };
    for _ in 0..half - 1 {
        sums.iter_mut().zip(row(right)).for_each(|(s, v)| *s += v);
        size += 1;
        right += 1;
    }
    for _ in 0..window + 1 - half {
        sums.iter_mut().zip(row(right)).for_each(|(s, v)| *s += v);
        size += 1;
        write(output, out, &sums, size);
        right += 1;
        out += 1;
    }
    for _ in 0..n - window {
        sums.iter_mut()
            .zip(row(right).iter().zip(row(left)))
            .for_each(|(s, (add, sub))| {
                *s += add;
                *s -= sub;
            });
        write(output, out, &sums, size);
        left += 1;
        right += 1;
        out += 1;
    }
    for _ in 0..half - 1 {
        sums.iter_mut().zip(row(left)).for_each(|(s, v)| *s -= v);
        size -= 1;
        write(output, out, &sums, size);
        left += 1;
        out += 1;
    }
}

/// The reference's heuristic: significant gradients of the 64×64 image.
fn quality(small: &[[f32; 64]; 64]) -> u8 {
    let step = |u: f32, v: f32| ((((u - v) * 100.0) / 255.0) as i32).unsigned_abs();
    let mut sum = 0u32;
    for (upper, lower) in small.iter().zip(&small[1..]) {
        for (u, v) in upper.iter().zip(lower) {
            sum += step(*u, *v);
        }
    }
    for row in small {
        for j in 0..63 {
            sum += step(row[j], row[j + 1]);
        }
    }
    (sum / 90).min(100) as u8
}

/// Rows 1–16 of the 64-point DCT-II matrix (the DC row is skipped).
fn dct_matrix() -> Vec<f32> {
    let scale = (2.0f64 / 64.0).sqrt() as f32;
    let mut m = vec![0f32; 16 * 64];
    for i in 0..16 {
        for j in 0..64 {
            let angle = (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
            m[i * 64 + j] = (f64::from(scale) * angle.cos()) as f32;
        }
    }
    m
}

/// B = D · A · Dᵀ, accumulated in the reference's order.
fn dct_16x16(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    let mut t = [[0f32; 64]; 16];
    for (i, t_row) in t.iter_mut().enumerate() {
        let d_row = &d[i * 64..i * 64 + 64];
        for (j, cell) in t_row.iter_mut().enumerate() {
            let mut sum = 0f32;
            for (k, dk) in d_row.iter().enumerate() {
                sum += dk * a[k][j];
            }
            *cell = sum;
        }
    }
    let mut b = [[0f32; 16]; 16];
    for (i, b_row) in b.iter_mut().enumerate() {
        for (j, cell) in b_row.iter_mut().enumerate() {
            let d_row = &d[j * 64..j * 64 + 64];
            let mut sum = 0f32;
            for (tk, dk) in t[i].iter().zip(d_row) {
                sum += tk * dk;
            }
            *cell = sum;
        }
    }
    b
}

/// One bit per coefficient: set when it is above the median (the 128th
/// smallest, as the reference's Torben median returns).
fn bits_above_median(b: &[[f32; 16]; 16]) -> PdqHash {
    let mut values: Vec<f32> = b.iter().flatten().copied().collect();
    let (_, median, _) = values.select_nth_unstable_by(127, f32::total_cmp);
    let median = *median;
    let mut words = [0u16; 16];
    for (i, row) in b.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            if *v > median {
                words[i] |= 1 << j;
            }
        }
    }
    PdqHash::from_reference_words(&words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hex_round_trips_and_bad_hex_is_named() {
        let h = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        assert_eq!(PdqHash::parse(h).unwrap().to_hex(), h);
        assert_eq!(
            PdqHash::parse(&h.to_uppercase()).unwrap(),
            PdqHash::parse(h).unwrap()
        );
        for bad in ["", "xyz", &h[..63], &format!("{h}0")] {
            let e = PdqHash::parse(bad).unwrap_err().to_string();
            assert!(e.contains("64 hex digits"), "{e}");
        }
    }

    #[test]
    fn the_first_hex_digit_holds_the_reference_word_15() {
        let mut w = [0u16; 16];
        w[15] = 0x8000;
        w[0] = 0x0001;
        let h = PdqHash::from_reference_words(&w);
        assert_eq!(
            h.to_hex(),
            "8000000000000000000000000000000000000000000000000000000000000001"
        );
        assert_eq!(h.slot(0), 0x8000);
        assert_eq!(h.slot(15), 0x0001);
    }

    #[test]
    fn tiny_and_flat_images_have_no_quality() {
        assert_eq!(hash_rgb(4, 4, &[0; 48]).1, 0);
        let flat = vec![128u8; 100 * 80 * 3];
        assert_eq!(hash_rgb(100, 80, &flat).1, 0);
        assert!(hash_image(b"not an image").is_err());
    }

    #[test]
    fn a_textured_image_hashes_with_half_the_bits_set_and_high_quality() {
        let (w, h) = (200usize, 150usize);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let v = (((x / 10) + (y / 15)) % 2 * 200) as u8 + (x % 7) as u8;
                rgb.extend_from_slice(&[v, v / 2, 255 - v]);
            }
        }
        let (hash, quality) = hash_rgb(w, h, &rgb);
        assert!(quality >= 80, "quality {quality}");
        let ones: u32 = hash.0.iter().map(|x| x.count_ones()).sum();
        assert_eq!(ones, 128);
        // Hashing is deterministic.
        assert_eq!(hash_rgb(w, h, &rgb).0, hash);
    }

    proptest! {
        #[test]
        fn hex_encoding_round_trips(words in any::<[u64; 4]>()) {
            let h = PdqHash(words);
            prop_assert_eq!(PdqHash::parse(&h.to_hex()).unwrap(), h);
            prop_assert_eq!(h.distance(&h), 0);
            let slots: u32 = (0..16).map(|s| (h.slot(s)).count_ones()).sum();
            prop_assert_eq!(slots, words.iter().map(|w| w.count_ones()).sum::<u32>());
        }

        #[test]
        fn the_box_filter_never_panics_and_averages(n in 1usize..300, lanes in 1usize..4) {
            let input: Vec<f32> = (0..n * lanes).map(|i| (i % 17) as f32).collect();
            let mut output = vec![0f32; n * lanes];
            box_filter(&input, &mut output, n, lanes, jarosz_window(n));
            prop_assert!(output.iter().all(|v| (0.0..=16.0).contains(v)));
        }
    }
}
