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

/// The objects of a TAXII envelope (`{"objects": [...]}`, other members
/// ignored) as raw JSON borrowed from the body: at most `max` of them are
/// taken (the rest of the body is not looked at), so what a request costs
/// is bounded by the cap, not by how many tiny objects fit in the body.
pub fn envelope_objects(
    body: &[u8],
    max: usize,
) -> Result<Vec<&serde_json::value::RawValue>, EnvelopeError> {
    use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess};

    struct Objects<'c>(usize, &'c std::cell::Cell<bool>);
    impl<'de> DeserializeSeed<'de> for Objects<'_> {
        type Value = Vec<&'de serde_json::value::RawValue>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> serde::de::Visitor<'de> for Objects<'_> {
        type Value = Vec<&'de serde_json::value::RawValue>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of STIX objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.0).min(1024));
            while let Some(o) = seq.next_element()? {
                if out.len() == self.0 {
                    self.1.set(true);
                    return Err(A::Error::custom("too many objects"));
                }
                out.push(o);
            }
            Ok(out)
        }
    }
    struct Envelope<'c>(usize, &'c std::cell::Cell<bool>);
    impl<'de> DeserializeSeed<'de> for Envelope<'_> {
        type Value = Vec<&'de serde_json::value::RawValue>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> serde::de::Visitor<'de> for Envelope<'_> {
        type Value = Vec<&'de serde_json::value::RawValue>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a TAXII envelope: an object with an \"objects\" list")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut objects = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == "objects" {
                    if objects.is_some() {
                        return Err(A::Error::custom("\"objects\" is given twice"));
                    }
                    objects = Some(map.next_value_seed(Objects(self.0, self.1))?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            objects.ok_or_else(|| A::Error::custom("the envelope has no \"objects\" list"))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let too_many = std::cell::Cell::new(false);
    let objects = Envelope(max, &too_many)
        .deserialize(&mut de)
        .and_then(|o| de.end().map(|()| o))
        .map_err(|e| {
            if too_many.get() {
                EnvelopeError::TooMany(max)
            } else {
                EnvelopeError::Invalid(format!("the body is not a TAXII envelope: {e}"))
            }
        })?;
    Ok(objects)
}

/// Why a TAXII envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("more than {0} objects in one request: send them in several")]
    TooMany(usize),
    #[error("{0}")]
    Invalid(String),
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

    #[test]
    fn envelopes_give_their_objects_up_to_the_cap() {
        let body = br#"{"more": false, "objects": [{"type": "x"}, {"id": 2}]}"#;
        let objects = envelope_objects(body, 2).unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].get(), r#"{"type": "x"}"#);
        assert_eq!(
            envelope_objects(body, 1).unwrap_err(),
            EnvelopeError::TooMany(1)
        );
        for bad in [
            &b"[]"[..],
            b"{}",
            b"{\"objects\": 3}",
            b"{\"objects\": []} x",
            b"\xff",
        ] {
            assert!(envelope_objects(bad, 10).is_err(), "{bad:?}");
        }
        // A million empty objects cost the cap, not a million values.
        let mut big = b"{\"objects\": [".to_vec();
        for _ in 0..1_000_000 {
            big.extend_from_slice(b"{},");
        }
        big.extend_from_slice(b"{}]}");
        assert_eq!(
            envelope_objects(&big, 10_000).unwrap_err(),
            EnvelopeError::TooMany(10_000)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_body_is_parsed_or_refused_without_panicking(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200), max in 0usize..5) {
            if let Ok(o) = envelope_objects(&body, max) {
                proptest::prop_assert!(o.len() <= max);
            }
        }
    }
}
