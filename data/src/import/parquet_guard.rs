//! A structural check of a Parquet file before polars decodes it.
//!
//! polars-parquet 0.55 trusts the counts a file declares: a footer list said to hold a billion
//! elements, or a data page whose `num_values` is negative (read as 2^64 - 1), makes it
//! allocate that much, and the failed allocation aborts the process. No `catch_unwind` stops
//! an abort, so one corrupt file given to `import_data` would take the MCP server down. This
//! walk reads the footer and every page header in the thrift compact encoding without
//! allocating by any declared count, refuses a count the bytes cannot hold, and checks each
//! page's value counts against its column chunk before polars sees the file.

use std::io::{Read, Seek, SeekFrom};

use polars::io::parquet::read::FileMetadata;

/// The largest footer read; a real OHLCV file's footer takes a few KiB.
const MAX_FOOTER: u64 = 64 << 20;
/// The most bytes one page header may take (its statistics included).
const MAX_PAGE_HEADER: u64 = 1 << 20;
/// The most rows one file may declare: 190 years of one-minute bars.
pub const MAX_ROWS: u64 = 100_000_000;
/// The deepest nesting of thrift structs and lists walked.
const MAX_DEPTH: usize = 32;

/// What a check found wrong, said for the trader.
pub type Problem = String;

/// Checks the file's tail (`PAR1`), its footer length and every count the footer's thrift
/// declares; refuses a file declaring more than [`MAX_ROWS`] rows.
pub fn footer(input: &mut (impl Read + Seek)) -> Result<(), Problem> {
    let len = input.seek(SeekFrom::End(0)).map_err(io)?;
    if len < 12 {
        return Err(format!("{len} bytes is shorter than any Parquet file"));
    }
    let tail = read_at(input, len - 8, 8)?;
    if &tail[4..] != b"PAR1" {
        return Err("it does not end in the Parquet magic `PAR1`".into());
    }
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer_len > len - 12 {
        return Err(format!(
            "its footer claims {footer_len} bytes of a {len}-byte file"
        ));
    }
    if footer_len > MAX_FOOTER {
        return Err(format!(
            "its footer takes {footer_len} bytes; settle reads footers up to {MAX_FOOTER}"
        ));
    }
    let bytes = read_at(input, len - 8 - footer_len, footer_len)?;
    let mut top = Vec::new();
    Thrift::new(&bytes)
        .typed(FILE_METADATA, 0, Some(&mut top))
        .map_err(|e| format!("its footer is corrupt: {e}"))?;
    // FileMetaData field 3 is the file's row count.
    match top.iter().find(|&&(id, _)| id == 3).map(|&(_, v)| v) {
        Some(rows) if !(0..=MAX_ROWS as i64).contains(&rows) => Err(format!(
            "it declares {rows} rows; settle imports 0 to {MAX_ROWS} bars from one file"
        )),
        _ => Ok(()),
    }
}

/// Walks the page headers of every column chunk in `meta` (read by polars once [`footer`]
/// passed): each header's thrift, its sizes within the chunk, and its value counts within
/// the chunk's. Stops a chunk where polars stops: once its pages hold the chunk's values.
pub fn pages(input: &mut (impl Read + Seek), meta: &FileMetadata) -> Result<(), Problem> {
    let len = input.seek(SeekFrom::End(0)).map_err(io)?;
    let mut rows = 0u64;
    for (g, group) in meta.row_groups.iter().enumerate() {
        rows = rows.saturating_add(group.num_rows() as u64);
        if rows > MAX_ROWS {
            return Err(format!(
                "its row groups hold more than {MAX_ROWS} rows, the most settle imports from one file"
            ));
        }
        for (c, chunk) in group.parquet_columns().iter().enumerate() {
            let at = format!("row group {g}, column chunk {c}");
            // polars' own `byte_range` unwraps an overflowing sum: compute it checked.
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            let size = chunk.compressed_size();
            let end = start.checked_add(size).filter(|_| start >= 0 && size >= 0);
            let Some(range) = end.map(|e| start as u64..e as u64).filter(|r| r.end <= len) else {
                return Err(format!(
                    "{at} declares {size} bytes at byte {start} of a {len}-byte file"
                ));
            };
            let values = chunk.num_values();
            if values < 0 {
                return Err(format!("{at} declares {values} values"));
            }
            chunk_pages(input, range, values).map_err(|e| format!("{at}: {e}"))?;
        }
    }
    Ok(())
}

/// The page headers of one column chunk holding `values` values in `range`.
fn chunk_pages(
    input: &mut (impl Read + Seek),
    range: std::ops::Range<u64>,
    values: i64,
) -> Result<(), Problem> {
    let (mut pos, mut seen) = (range.start, 0i64);
    while pos < range.end && seen < values {
        let bytes = read_at(input, pos, (range.end - pos).min(MAX_PAGE_HEADER))?;
        let mut walk = Thrift::new(&bytes);
        let ints = walk
            .structure()
            .map_err(|e| format!("the page header at byte {pos} is corrupt: {e}"))?;
        let header_len = walk.pos as u64;
        // PageHeader: 2 uncompressed size, 3 compressed size; 5 a v1 data page {1 values},
        // 7 a dictionary page {1 values}, 8 a v2 data page {1 values, 2 nulls, 3 rows,
        // 5 definition-level bytes, 6 repetition-level bytes}.
        let compressed = field(&ints, 3, 0).unwrap_or(-1);
        let room = range.end - pos - header_len;
        if compressed < 0 || compressed as u64 > room {
            return Err(format!(
                "the page at byte {pos} declares {compressed} bytes where {room} remain"
            ));
        }
        if field(&ints, 2, 0).is_some_and(|n| n < 0) {
            return Err(format!("the page at byte {pos} declares a negative size"));
        }
        for (outer, inner) in [(5, 1), (7, 1), (8, 1), (8, 2), (8, 3)] {
            if let Some(n) = field(&ints, outer, inner).filter(|n| !(0..=values).contains(n)) {
                return Err(format!(
                    "the page at byte {pos} declares {n} values in a chunk of {values}"
                ));
            }
        }
        let levels = [(8, 5), (8, 6)].map(|(o, i)| field(&ints, o, i).unwrap_or(0));
        if levels.iter().any(|&n| n < 0) || levels[0].saturating_add(levels[1]) > compressed {
            return Err(format!(
                "the page at byte {pos} declares level bytes outside its {compressed} bytes"
            ));
        }
        seen = seen.saturating_add(field(&ints, 5, 1).or(field(&ints, 8, 1)).unwrap_or(0));
        pos += header_len + compressed as u64;
    }
    Ok(())
}

/// An integer field of a walked struct: `outer` at the top level (`inner` 0), or `inner`
/// inside the struct in field `outer`.
fn field(ints: &[(i16, i16, i64)], outer: i16, inner: i16) -> Option<i64> {
    ints.iter()
        .find(|&&(o, i, _)| o == outer && i == inner)
        .map(|&(_, _, v)| v)
}

fn read_at(input: &mut (impl Read + Seek), at: u64, n: u64) -> Result<Vec<u8>, Problem> {
    input.seek(SeekFrom::Start(at)).map_err(io)?;
    let mut bytes = Vec::with_capacity(n as usize);
    input.take(n).read_to_end(&mut bytes).map_err(io)?;
    if (bytes.len() as u64) < n {
        return Err(format!("it ends inside the {n} bytes at byte {at}"));
    }
    Ok(bytes)
}

fn io(e: std::io::Error) -> Problem {
    format!("reading it failed: {e}")
}

/// What a footer field holds, as polars-parquet reads it.
#[derive(Clone, Copy)]
enum Expect {
    Bool,
    Byte,
    /// A varint: i16, i32 or i64 (read alike).
    Int,
    Binary,
    Struct(Shape),
    /// A list of structs.
    Structs(Shape),
    /// A list of varints.
    Ints,
    /// A list of binaries.
    Binaries,
}

impl Expect {
    fn name(self) -> &'static str {
        match self {
            Expect::Bool => "a boolean",
            Expect::Byte => "a byte",
            Expect::Int => "an integer",
            Expect::Binary => "a string",
            Expect::Struct(_) => "a struct",
            Expect::Structs(_) => "a list of structs",
            Expect::Ints => "a list of integers",
            Expect::Binaries => "a list of strings",
        }
    }
}

/// A thrift struct's fields by id, those polars-parquet 0.55 reads
/// (`parquet/handwritten_thrift/file_metadata_thrift.rs`).
type Shape = &'static [(i16, Expect)];

use Expect::{Binaries, Binary, Bool, Byte, Int, Ints, Struct, Structs};

const EMPTY: Shape = &[];
const FILE_METADATA: Shape = &[
    (1, Int),
    (2, Structs(SCHEMA_ELEMENT)),
    (3, Int),
    (4, Structs(ROW_GROUP)),
    (5, Structs(KEY_VALUE)),
    (6, Binary),
    (7, Structs(COLUMN_ORDER)),
];
const SCHEMA_ELEMENT: Shape = &[
    (1, Int),
    (2, Int),
    (3, Int),
    (4, Binary),
    (5, Int),
    (6, Int),
    (7, Int),
    (8, Int),
    (9, Int),
    (10, Struct(LOGICAL_TYPE)),
];
const LOGICAL_TYPE: Shape = &[
    (1, Struct(EMPTY)),
    (2, Struct(EMPTY)),
    (3, Struct(EMPTY)),
    (4, Struct(EMPTY)),
    (5, Struct(DECIMAL)),
    (6, Struct(EMPTY)),
    (7, Struct(TIME)),
    (8, Struct(TIME)),
    (10, Struct(INTEGER)),
    (11, Struct(EMPTY)),
    (12, Struct(EMPTY)),
    (13, Struct(EMPTY)),
    (14, Struct(EMPTY)),
    (15, Struct(EMPTY)),
];
const DECIMAL: Shape = &[(1, Int), (2, Int)];
const TIME: Shape = &[(1, Bool), (2, Struct(TIME_UNIT))];
const TIME_UNIT: Shape = &[(1, Struct(EMPTY)), (2, Struct(EMPTY)), (3, Struct(EMPTY))];
const INTEGER: Shape = &[(1, Byte), (2, Bool)];
const ROW_GROUP: Shape = &[
    (1, Structs(COLUMN_CHUNK)),
    (2, Int),
    (3, Int),
    (4, Structs(SORTING_COLUMN)),
    (5, Int),
    (6, Int),
    (7, Int),
];
const COLUMN_CHUNK: Shape = &[
    (1, Binary),
    (2, Int),
    (3, Struct(COLUMN_METADATA)),
    (4, Int),
    (5, Int),
    (6, Int),
    (7, Int),
];
const COLUMN_METADATA: Shape = &[
    (1, Int),
    (2, Ints),
    (3, Binaries),
    (4, Int),
    (5, Int),
    (6, Int),
    (7, Int),
    (9, Int),
    (10, Int),
    (11, Int),
    (12, Struct(STATISTICS)),
    (14, Int),
    (15, Int),
];
const STATISTICS: Shape = &[
    (1, Binary),
    (2, Binary),
    (3, Int),
    (4, Int),
    (5, Binary),
    (6, Binary),
    (7, Bool),
    (8, Bool),
];
const KEY_VALUE: Shape = &[(1, Binary), (2, Binary)];
const SORTING_COLUMN: Shape = &[(1, Int), (2, Bool), (3, Bool)];
const COLUMN_ORDER: Shape = &[(1, Struct(EMPTY)), (2, Struct(EMPTY))];

/// A reader of thrift's compact protocol that checks every declared length against the bytes
/// left, so a walk takes time and memory in proportion to the bytes, whatever they claim.
struct Thrift<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Thrift<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Walks one struct, returning the integer fields of its first two levels as
    /// `(field, nested field or 0, value)`.
    fn structure(&mut self) -> Result<Vec<(i16, i16, i64)>, Problem> {
        let mut ints = Vec::new();
        self.fields(0, None, &mut ints)?;
        Ok(ints)
    }

    fn fields(
        &mut self,
        depth: usize,
        parent: Option<i16>,
        ints: &mut Vec<(i16, i16, i64)>,
    ) -> Result<(), Problem> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let mut id: i16 = 0;
        loop {
            let head = self.byte()?;
            if head == 0 {
                return Ok(());
            }
            id = self.field_id(head, id)?;
            match (head & 0x0f, parent) {
                // Booleans live in the field header.
                (1 | 2, _) => {}
                (4..=6, _) if depth <= 1 => {
                    let v = self.zigzag()?;
                    ints.push(parent.map_or((id, 0, v), |p| (p, id, v)));
                }
                (12, None) => self.fields(depth + 1, Some(id), ints)?,
                (kind, _) => self.value(kind, depth + 1)?,
            }
        }
    }

    /// Skips one value of compact type `kind` (a list element or a field's value).
    fn value(&mut self, kind: u8, depth: usize) -> Result<(), Problem> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        match kind {
            1..=3 => self.skip(1),
            4..=6 => self.zigzag().map(drop),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => {
                let (n, kind) = self.list_header()?;
                (0..n).try_for_each(|_| self.value(kind, depth + 1))
            }
            11 => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                self.claim(n, 2)?;
                (0..n).try_for_each(|_| {
                    self.value(kinds >> 4, depth + 1)?;
                    self.value(kinds & 0x0f, depth + 1)
                })
            }
            12 => self.fields(depth, Some(-1), &mut Vec::new()),
            13 => self.skip(16),
            other => Err(format!(
                "an unknown thrift type {other} at byte {}",
                self.pos
            )),
        }
    }

    /// A field's id from its header byte `head` and the previous field's id.
    fn field_id(&mut self, head: u8, previous: i16) -> Result<i16, Problem> {
        Ok(match head >> 4 {
            0 => i16::try_from(self.zigzag()?).map_err(|_| "a field id out of range")?,
            delta => previous
                .checked_add(i16::from(delta))
                .ok_or("a field id out of range")?,
        })
    }

    /// A list's element count, checked against the bytes left, and its element type.
    fn list_header(&mut self) -> Result<(u64, u8), Problem> {
        let head = self.byte()?;
        let n = match head >> 4 {
            15 => self.varint()?,
            n => u64::from(n),
        };
        self.claim(n, 1)?;
        Ok((n, head & 0x0f))
    }

    /// Walks one struct of `shape`, the way polars-parquet's footer decoder reads it: that
    /// decoder picks what to read by the field id alone, so a field whose thrift type is not
    /// the one it reads would send it through bytes of another meaning (a list header read
    /// out of an integer's bytes, and an allocation as large as those bytes say). Every field
    /// of `shape` must carry its type; other fields are skipped by their own. The integer
    /// fields of this struct's own level go to `top` as `(field, value)` when it is given, so
    /// one walk both checks the footer and reads what settle needs of it.
    fn typed(
        &mut self,
        shape: Shape,
        depth: usize,
        mut top: Option<&mut Vec<(i16, i64)>>,
    ) -> Result<(), Problem> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let mut id: i16 = 0;
        loop {
            let at = self.pos;
            let head = self.byte()?;
            if head == 0 {
                return Ok(());
            }
            id = self.field_id(head, id)?;
            let kind = head & 0x0f;
            let Some(&(_, expect)) = shape.iter().find(|(known, _)| *known == id) else {
                if !matches!(kind, 1 | 2) {
                    self.value(kind, depth + 1)?;
                }
                continue;
            };
            let wrong = |what: String| {
                format!(
                    "field {id} at byte {at} is {what} where Parquet has {}",
                    expect.name()
                )
            };
            match (expect, kind) {
                (Expect::Bool, 1 | 2) => {}
                (Expect::Int, 4..=6) => {
                    let value = self.zigzag()?;
                    if let Some(top) = top.as_deref_mut() {
                        top.push((id, value));
                    }
                }
                (Expect::Byte, 3) | (Expect::Binary, 8) => self.value(kind, depth + 1)?,
                (Expect::Struct(inner), 12) => self.typed(inner, depth + 1, None)?,
                (Expect::Structs(_) | Expect::Ints | Expect::Binaries, 9 | 10) => {
                    let (n, element) = self.list_header()?;
                    let fits = n == 0
                        || match expect {
                            Expect::Structs(_) => element == 12,
                            Expect::Ints => matches!(element, 4..=6),
                            _ => element == 8,
                        };
                    if !fits {
                        return Err(wrong(format!("a list of thrift type {element}")));
                    }
                    for _ in 0..n {
                        match expect {
                            Expect::Structs(inner) => self.typed(inner, depth + 1, None)?,
                            _ => self.value(element, depth + 1)?,
                        }
                    }
                }
                _ => return Err(wrong(format!("of thrift type {kind}"))),
            }
        }
    }

    /// Refuses `n` elements of at least `each` bytes when fewer bytes are left.
    fn claim(&self, n: u64, each: u64) -> Result<(), Problem> {
        let left = (self.bytes.len() - self.pos) as u64;
        if n.saturating_mul(each) > left {
            return Err(format!(
                "a list at byte {} claims {n} elements with {left} bytes left",
                self.pos
            ));
        }
        Ok(())
    }

    fn byte(&mut self) -> Result<u8, Problem> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| format!("it ends inside a value at byte {}", self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: u64) -> Result<(), Problem> {
        self.claim(n, 1)?;
        self.pos += n as usize;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, Problem> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!(
            "a varint longer than 10 bytes at byte {}",
            self.pos
        ))
    }

    fn zigzag(&mut self) -> Result<i64, Problem> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_claiming_more_elements_than_bytes_is_refused() {
        // Field 4 (delta 4), a list (9) of structs (12) claiming 2^20 elements.
        let bytes = [0x49, 0xfc, 0x80, 0x80, 0x40, 0x00];
        let err = Thrift::new(&bytes).structure().unwrap_err();
        assert!(
            err.contains("claims 1048576 elements with 1 bytes left"),
            "{err}"
        );
    }

    #[test]
    fn nested_integer_fields_are_read_with_their_path() {
        // {3: i32 -3, 5: {1: i32 7}} — zigzag(-3) = 5, zigzag(7) = 14.
        let bytes = [0x35, 0x05, 0x2c, 0x15, 0x0e, 0x00, 0x00];
        let mut walk = Thrift::new(&bytes);
        let ints = walk.structure().unwrap();
        assert_eq!(ints, vec![(3, 0, -3), (5, 1, 7)]);
        assert_eq!(walk.pos, bytes.len());
    }

    /// A file of the magic, `footer` (FileMetaData in compact thrift), its length and the
    /// magic again.
    fn file_with_footer(footer: &[u8]) -> std::io::Cursor<Vec<u8>> {
        let mut file = b"PAR1".to_vec();
        file.extend_from_slice(footer);
        file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        file.extend_from_slice(b"PAR1");
        std::io::Cursor::new(file)
    }

    /// FileMetaData with field 3 (the row count, an i64) of `rows` and a row group whose own
    /// field 3 (its byte size) is 2^40, to tell the two levels apart.
    fn footer_declaring(rows: i64) -> Vec<u8> {
        let mut footer = vec![0x36];
        let mut zigzag = ((rows << 1) ^ (rows >> 63)) as u64;
        while zigzag >= 0x80 {
            footer.push(zigzag as u8 | 0x80);
            zigzag >>= 7;
        }
        footer.push(zigzag as u8);
        // Field 4 (delta 1), a list (9) of one struct (0x1c): {3 (delta 3, i64): zigzag(2^40)}.
        footer.extend_from_slice(&[0x19, 0x1c, 0x36, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00]);
        footer.push(0x00);
        footer
    }

    #[test]
    fn the_footer_row_count_is_read_from_its_top_level_and_bounded() {
        assert_eq!(footer(&mut file_with_footer(&footer_declaring(5))), Ok(()));
        let max = MAX_ROWS as i64;
        assert_eq!(
            footer(&mut file_with_footer(&footer_declaring(max))),
            Ok(())
        );
        let err = footer(&mut file_with_footer(&footer_declaring(max + 1))).unwrap_err();
        assert_eq!(
            err,
            "it declares 100000001 rows; settle imports 0 to 100000000 bars from one file"
        );
        let err = footer(&mut file_with_footer(&footer_declaring(-1))).unwrap_err();
        assert!(err.starts_with("it declares -1 rows"), "{err}");
    }

    #[test]
    fn nesting_past_the_limit_is_refused() {
        // A struct in field 1 of a struct in field 1 of ...: 0x1c opens one each time.
        let bytes = vec![0x1c; 100];
        let err = Thrift::new(&bytes).structure().unwrap_err();
        assert!(err.contains("nested deeper"), "{err}");
    }
}
