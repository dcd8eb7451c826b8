//! TAXII 2.1 request parameters: paging (`limit`, `next`), `added_after`
//! and the `match[…]` filters, parsed and checked. Malformed values are
//! refused with a sentence saying which (the server answers 400).

/// Which versions of each object a query returns (`match[version]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versions {
    pub all: bool,
    pub first: bool,
    pub last: bool,
    /// Given versions, normalised (see [`normalise_time`]).
    pub at: Vec<String>,
}

impl Versions {
    pub fn last() -> Versions {
        Versions {
            last: true,
            ..Versions::default()
        }
    }
}

/// A timestamp in the stored form (UTC, microseconds), so that text order
/// is time order; `None` if it is not an RFC 3339 time.
pub fn normalise_time(t: &str) -> Option<String> {
    t.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// The filters and paging of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub limit: usize,
    /// Continue after this position (a `next` token is `s<position>`).
    pub after_seq: i64,
    pub added_after: Option<String>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub spec_versions: Vec<String>,
    pub versions: Versions,
}

/// Parses a query string. `versions`: whether the endpoint takes
/// `match[version]`; `limit` is capped at `max_page`.
pub fn parse_query(
    raw: &str,
    versions: bool,
    default_page: usize,
    max_page: usize,
) -> Result<Query, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| format!("the query string is malformed: {e}"))?;
    let mut q = Query {
        limit: default_page,
        after_seq: 0,
        added_after: None,
        ids: Vec::new(),
        types: Vec::new(),
        spec_versions: Vec::new(),
        versions: Versions::last(),
    };
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                q.limit = match v.trim().parse::<usize>() {
                    Ok(n) if n >= 1 => n.min(max_page),
                    _ => return Err(format!("limit {v:?} is not a positive integer")),
                }
            }
            "next" => {
                q.after_seq = v
                    .strip_prefix('s')
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("next {v:?} is not a token this server gave"))?;
            }
            "added_after" => {
                q.added_after = Some(
                    normalise_time(&v)
                        .ok_or_else(|| format!("added_after {v:?} is not a timestamp"))?,
                );
            }
            "match[id]" => {
                q.ids = list(&v);
                if let Some(bad) = q.ids.iter().find(|i| !crate::stix::is_identifier(i, None)) {
                    return Err(format!("match[id] {bad:?} is not a STIX identifier"));
                }
            }
            "match[type]" => q.types = list(&v),
            "match[spec_version]" => q.spec_versions = list(&v),
            "match[version]" if versions => {
                let mut filter = Versions::default();
                for item in list(&v) {
                    match item.as_str() {
                        "all" => filter.all = true,
                        "first" => filter.first = true,
                        "last" => filter.last = true,
                        t => filter.at.push(normalise_time(t).ok_or_else(|| {
                            format!("match[version] {t:?} is not last, first, all or a timestamp")
                        })?),
                    }
                }
                q.versions = filter;
            }
            other if other.starts_with("match[") => {
                return Err(format!("{other} is not a filter this endpoint supports"));
            }
            _ => {}
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_parse_and_bad_ones_are_named() {
        let q = parse_query(
            "limit=5&next=s42&match%5Btype%5D=indicator,report&match%5Bversion%5D=first,2026-01-01T00:00:00Z",
            true,
            1000,
            10_000,
        )
        .unwrap();
        assert_eq!((q.limit, q.after_seq, q.types.len()), (5, 42, 2));
        assert!(q.versions.first && !q.versions.last);
        assert_eq!(q.versions.at, ["2026-01-01T00:00:00.000000Z"]);
        for bad in [
            "limit=0",
            "limit=x",
            "next=42",
            "added_after=yesterday",
            "match%5Bcolour%5D=red",
            "match%5Bid%5D=nope",
            "match%5Bversion%5D=latest",
        ] {
            let e = parse_query(bad, true, 1000, 10_000).unwrap_err();
            assert!(
                e.contains(
                    bad.split('=')
                        .next()
                        .unwrap_or("")
                        .replace("%5B", "[")
                        .replace("%5D", "]")
                        .as_str()
                ),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            parse_query("limit=999999", true, 1000, 10_000)
                .unwrap()
                .limit,
            10_000
        );
        assert!(parse_query("match%5Bversion%5D=all", false, 1, 1).is_err());
    }
}
