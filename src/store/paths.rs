//! Request paths of the kept rows, packed one after another in 1 MiB chunks.
//!
//! A path filter reads every kept path: packed, that is one sequential scan
//! that `memchr` searches a chunk at a time, instead of a pointer chase to a
//! million small allocations. Rows leave oldest first, so a chunk is freed
//! once no kept row points into it.
//!
//! Every path is followed by [`SEPARATOR`], so a needle without that byte
//! can only match inside one path.

use std::collections::VecDeque;

use memchr::{memchr, memchr_iter, memchr2_iter, memmem};

/// Bytes in a chunk, at most (a longer path gets a chunk of its own size).
const CHUNK: usize = 1 << 20;
/// Bytes in the first chunk; each next one is twice the last, up to [`CHUNK`],
/// so a small store holds little.
const FIRST_CHUNK: usize = 4 << 10;
/// Written after each path.
const SEPARATOR: u8 = 0;

/// Where one path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRef {
    /// The chunk's sequence number.
    chunk: u32,
    start: u32,
    len: u32,
}

/// Paths of consecutive ids, packed.
#[derive(Debug)]
struct Chunk {
    bytes: Vec<u8>,
    /// Id of the first path.
    first_id: u64,
    /// Paths stored.
    count: u64,
    /// Whether some path holds the separator byte itself (then a path's
    /// number cannot be told by counting separators).
    mixed: bool,
}

/// FIFO storage for the paths of rows with increasing ids.
#[derive(Debug, Default)]
pub struct Paths {
    chunks: VecDeque<Chunk>,
    /// Sequence number of `chunks[0]`.
    first: u32,
}

/// How a needle is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Byte for byte.
    Exact,
    /// ASCII case ignored; the needle is given in lower case.
    Ignore,
}

impl Paths {
    /// Stores the path of row `id` (ids increase from one call to the next).
    pub fn push(&mut self, id: u64, path: &str) -> PathRef {
        let need = path.len() + 1;
        let fits = self.chunks.back().is_some_and(|c| {
            c.bytes.capacity() - c.bytes.len() >= need && c.first_id + c.count == id
        });
        if !fits {
            let size = self
                .chunks
                .back()
                .map_or(FIRST_CHUNK, |c| (c.bytes.capacity() * 2).min(CHUNK));
            self.chunks.push_back(Chunk {
                bytes: Vec::with_capacity(need.max(size)),
                first_id: id,
                count: 0,
                mixed: false,
            });
        }
        let index = self.chunks.len() - 1;
        let chunk = &mut self.chunks[index];
        // A chunk is under 4 GiB: a path is at most the decoder's line limit.
        let start = u32::try_from(chunk.bytes.len()).unwrap_or(u32::MAX);
        chunk.bytes.extend_from_slice(path.as_bytes());
        chunk.bytes.push(SEPARATOR);
        chunk.count += 1;
        chunk.mixed |= memchr(SEPARATOR, path.as_bytes()).is_some();
        PathRef {
            chunk: self.first.wrapping_add(index as u32),
            start,
            len: u32::try_from(path.len()).unwrap_or(u32::MAX),
        }
    }

    /// The bytes of a path ("" if its chunk is gone).
    pub fn bytes(&self, r: PathRef) -> &[u8] {
        let start = r.start as usize;
        self.chunk(r.chunk)
            .and_then(|c| c.bytes.get(start..start + r.len as usize))
            .unwrap_or_default()
    }

    /// The text of a path.
    pub fn text(&self, r: PathRef) -> &str {
        // Stored from a `&str` in one piece, so this is valid UTF-8.
        std::str::from_utf8(self.bytes(r)).unwrap_or_default()
    }

    fn chunk(&self, seq: u32) -> Option<&Chunk> {
        self.chunks.get(seq.wrapping_sub(self.first) as usize)
    }

    /// Frees the chunks before the one `oldest` (the oldest path still
    /// kept) is in; `None` when no path is kept any more.
    pub fn release_before(&mut self, oldest: Option<PathRef>) {
        if let Some(r) = oldest {
            while self.first != r.chunk && !self.chunks.is_empty() {
                self.chunks.pop_front();
                self.first = self.first.wrapping_add(1);
            }
        } else {
            self.first = self.first.wrapping_add(self.chunks.len() as u32);
            self.chunks.clear();
        }
    }

    /// Heap bytes held.
    pub fn memory(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.bytes.capacity())
            .sum::<usize>()
            + self.chunks.capacity() * size_of::<Chunk>()
    }

    /// Ids of the paths that contain `needle`, in increasing order, from
    /// one scan of each chunk (ids of released rows still in a chunk may be
    /// among them). `None` when the needle or a path holds the separator
    /// byte: the caller then looks path by path.
    pub fn containing(&self, needle: &[u8], case: Case) -> Option<Vec<u64>> {
        if memchr(SEPARATOR, needle).is_some() || self.chunks.iter().any(|c| c.mixed) {
            return None;
        }
        let mut ids = Vec::new();
        let mut hits = Vec::new();
        for chunk in &self.chunks {
            if needle.is_empty() {
                ids.extend(chunk.first_id..chunk.first_id + chunk.count);
                continue;
            }
            hits.clear();
            find_all(&chunk.bytes, needle, case, &mut hits);
            // A path's number in the chunk is the count of separators before it.
            let (mut at, mut number) = (0, 0);
            for &h in &hits {
                number += memchr_iter(SEPARATOR, &chunk.bytes[at..h]).count() as u64;
                at = h;
                let id = chunk.first_id + number;
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
        Some(ids)
    }
}

/// Start offsets of `needle` in `hay`, in increasing order (overlapping ones
/// may be left out: a needle without the separator cannot span two paths).
fn find_all(hay: &[u8], needle: &[u8], case: Case, hits: &mut Vec<usize>) {
    let has_letters = needle.iter().any(u8::is_ascii_alphabetic);
    if case == Case::Exact || !has_letters {
        hits.extend(memmem::find_iter(hay, needle));
        return;
    }
    // Look for the needle's rarest byte in either case, then compare around it.
    let (at, &b) = needle
        .iter()
        .enumerate()
        .min_by_key(|&(_, b)| rank(*b))
        .unwrap_or((0, &needle[0]));
    let check = |p: usize| -> Option<usize> {
        let start = p.checked_sub(at)?;
        let candidate = hay.get(start..start + needle.len())?;
        candidate.eq_ignore_ascii_case(needle).then_some(start)
    };
    let upper = b.to_ascii_uppercase();
    if upper == b {
        hits.extend(memchr_iter(b, hay).filter_map(check));
    } else {
        hits.extend(memchr2_iter(b, upper, hay).filter_map(check));
    }
}

/// How common a byte is in request paths, roughly (0 is rarest): the
/// scan is fastest on a byte that occurs least.
fn rank(b: u8) -> usize {
    /// Most common first.
    const COMMON: &[u8] = b"/etaoinsrhlducmpgfbyvw0123456789-_.=?&kxjqz";
    COMMON
        .iter()
        .position(|&c| c == b.to_ascii_lowercase())
        .map_or(0, |i| COMMON.len() - i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(paths: &[&str], needle: &str, case: Case) -> Vec<u64> {
        (0u64..)
            .zip(paths)
            .filter(|(_, p)| match case {
                Case::Exact => p.contains(needle),
                Case::Ignore => p.to_ascii_lowercase().contains(needle),
            })
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn finds_what_a_path_by_path_search_finds_and_nothing_across_paths() {
        let list = [
            "/api/cart",
            "a/b",
            "aba",
            "/Checkout/x",
            "",
            "/cart/cart",
            "ab",
            "ÄbÄ/k",
        ];
        let mut p = Paths::default();
        let refs: Vec<_> = (0..).zip(list).map(|(id, s)| p.push(id, s)).collect();
        for (needle, case) in [
            ("cart", Case::Exact),
            ("aba", Case::Exact),
            ("t/a", Case::Exact),
            ("checkout", Case::Ignore),
            ("checkout", Case::Exact),
            ("b", Case::Ignore),
            ("", Case::Exact),
            ("/", Case::Ignore),
            ("bä", Case::Ignore),
            ("bÄ/k", Case::Ignore),
        ] {
            let got = p.containing(needle.as_bytes(), case);
            assert_eq!(got, Some(naive(&list, needle, case)), "{needle:?} {case:?}");
        }
        assert_eq!(p.containing(b"a\0a", Case::Exact), None);
        assert_eq!(p.text(refs[3]), "/Checkout/x");
        // A path with the separator in it: no scan, the caller looks row by row.
        p.push(8, "/a\0b");
        assert_eq!(p.containing(b"a", Case::Exact), None);
    }

    #[test]
    fn chunks_are_freed_once_no_kept_path_is_in_them() {
        let mut p = Paths::default();
        let path = "x".repeat(1000);
        let refs: Vec<_> = (0..3000).map(|id| p.push(id, &path)).collect();
        let sizes: Vec<usize> = p.chunks.iter().map(|c| c.bytes.capacity()).collect();
        assert_eq!(sizes[..3], [4 << 10, 8 << 10, 16 << 10], "chunks double");
        assert_eq!(sizes.last(), Some(&CHUNK), "up to the limit");
        let long = "y".repeat(CHUNK * 2);
        let r = p.push(3000, &long);
        assert_eq!(p.text(r), long);
        assert_eq!(p.chunks.len(), sizes.len() + 1);
        // The oldest kept path is in the last chunk of x: the others go.
        let (oldest, in_last) = (2900, p.chunks[sizes.len() - 1].first_id);
        assert!(in_last <= oldest);
        p.release_before(Some(refs[oldest as usize]));
        assert_eq!(p.chunks.len(), 2);
        assert_eq!(p.text(refs[2900]), path);
        assert_eq!(p.text(refs[0]), "", "a freed path reads as empty");
        assert_eq!(p.containing(b"yy", Case::Exact), Some(vec![3000]));
        let xs = p.containing(b"x", Case::Ignore).expect("no separator");
        assert_eq!(xs.first(), Some(&in_last), "the kept chunk's paths");
        assert_eq!(xs.len() as u64, 3000 - in_last);
        // A gap in the ids starts a new chunk, so numbers stay right.
        let after_gap = p.push(5000, "/x");
        assert_eq!(p.containing(b"/x", Case::Exact), Some(vec![5000]));
        assert_eq!(p.text(after_gap), "/x");
        p.release_before(None);
        assert_eq!(p.memory(), p.chunks.capacity() * size_of::<Chunk>());
        let r = p.push(6000, "/after");
        assert_eq!(p.text(r), "/after");
    }
}
