//! Shards of a run: `--replications A..B` (replications A to B−1 of an N-replication run) and
//! the check that a set of shards covers 0..N exactly once, for `hasim merge`.
//!
//! Replication r's random streams are keyed by r alone (see `core::rng`), so a shard computes
//! exactly the replications the full run would, and shards can run anywhere in any order.

use std::ops::Range;

/// The value of `--replications`: a count (the same as `-n`, its older spelling) or a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replications {
    Count(u32),
    Range(u32, u32),
}

/// The most replications a run may have (the scenario limit, and `-n`'s).
pub const MAX_REPLICATIONS: u32 = 100_000;

/// Parses `N` or `A..B` (A < B ≤ 100,000).
pub fn parse_replications(text: &str) -> Result<Replications, String> {
    let int = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("\"{text}\" is not N or A..B (whole numbers)"))
    };
    match text.split_once("..") {
        None => match int(text)? {
            n @ 1..=MAX_REPLICATIONS => Ok(Replications::Count(n)),
            _ => Err(format!("{text} is not in 1..={MAX_REPLICATIONS}")),
        },
        Some((a, b)) => {
            let (a, b) = (int(a)?, int(b)?);
            if a >= b || b > MAX_REPLICATIONS {
                return Err(format!(
                    "{text}: a shard A..B needs A < B <= {MAX_REPLICATIONS} (B is exclusive)"
                ));
            }
            Ok(Replications::Range(a, b))
        }
    }
}

/// Checks a shard's range against the run's replication count `n`.
pub fn check_range(range: &Range<u32>, n: u32) -> Result<(), String> {
    if range.end > n {
        return Err(format!(
            "--replications {}..{}: the run has {n} replications (0..{n}); give the run's count with -n",
            range.start, range.end
        ));
    }
    Ok(())
}

/// `0..3, 5, 7..9` for a sorted list of replication indices.
pub fn ranges_text(indices: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end += 1;
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}..{}", end + 1)
        });
        i += 1;
    }
    parts.join(", ")
}

/// Checks that the replications found in shards (`(shard name, replication)` pairs) cover
/// `0..n` exactly once; the error names every replication found twice (with both shards) and
/// every one missing.
pub fn check_coverage(found: &[(String, u32)], n: u32) -> Result<(), String> {
    let mut owner: Vec<Option<&str>> = vec![None; n as usize];
    let mut problems = Vec::new();
    let mut beyond = Vec::new();
    for (shard, r) in found {
        match owner.get_mut(*r as usize) {
            None => beyond.push(*r),
            Some(Some(first)) => {
                problems.push(format!("replication {r} is in both {first} and {shard}"))
            }
            Some(slot) => *slot = Some(shard),
        }
    }
    // Only the first overlaps are named one by one: a whole shard given twice repeats them all.
    if problems.len() > 10 {
        let more = problems.len() - 10;
        problems.truncate(10);
        problems.push(format!("{more} more replications are in two shards"));
    }
    if !beyond.is_empty() {
        beyond.sort_unstable();
        problems.push(format!(
            "replications {} are past the run's {n}",
            ranges_text(&beyond)
        ));
    }
    let missing: Vec<u32> = (0..n).filter(|r| owner[*r as usize].is_none()).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "replications {} of 0..{n} are in no shard",
            ranges_text(&missing)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replications_parse_as_a_count_or_a_range() {
        assert_eq!(parse_replications("8"), Ok(Replications::Count(8)));
        assert_eq!(parse_replications("3..8"), Ok(Replications::Range(3, 8)));
        assert!(parse_replications("0").is_err());
        assert!(parse_replications("3..3").unwrap_err().contains("A < B"));
        assert!(parse_replications("5..2").is_err());
        assert!(parse_replications("0..100001").is_err());
        assert!(parse_replications("a..2").is_err());
        assert!(parse_replications("1..=3").is_err());
        assert!(check_range(&(3..9), 8).unwrap_err().contains("has 8"));
        assert!(check_range(&(3..8), 8).is_ok());
    }

    #[test]
    fn coverage_names_overlaps_and_gaps() {
        let shard = |name: &str, r: Range<u32>| -> Vec<(String, u32)> {
            r.map(|i| (name.to_string(), i)).collect()
        };
        let ok = [shard("a", 0..3), shard("b", 3..8)].concat();
        assert_eq!(check_coverage(&ok, 8), Ok(()));
        let overlap = [shard("a", 0..4), shard("b", 3..8)].concat();
        assert_eq!(
            check_coverage(&overlap, 8).unwrap_err(),
            "replication 3 is in both a and b"
        );
        let gap = [shard("a", 0..2), shard("b", 3..5), shard("c", 7..8)].concat();
        assert_eq!(
            check_coverage(&gap, 8).unwrap_err(),
            "replications 2, 5..7 of 0..8 are in no shard"
        );
        let past = shard("a", 0..9);
        assert!(check_coverage(&past, 8)
            .unwrap_err()
            .contains("replications 8 are past"));
    }
}
