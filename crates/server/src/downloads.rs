//! Serving an attachment to a signed-in reader (API or UI): only after the
//! node decided the reader may have it and recorded a restricted read, and
//! always as a download the browser will not render or sniff.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use liaison_node::Node;
use liaison_node::users::User;

use crate::error::ApiError;

/// The attachment as a download, or "not found" when the reader may not
/// have it (whether or not the node holds it).
pub async fn attachment(
    node: &Node,
    user: &User,
    sha256: &str,
    via: &str,
) -> Result<Response, ApiError> {
    let Some(found) = node.open_attachment_for(user, sha256, via).await? else {
        return Err(ApiError::not_found(format!(
            "no attachment {}",
            liaison_node::attachments::canonical_sha256(sha256).unwrap_or("with that name")
        )));
    };
    let stream = node.read_attachment(&found.sha256)?;
    let mut r = Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(found.size));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&found.name, &found.sha256)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// `attachment` with the sender's file name: an ASCII fallback and the
/// UTF-8 name percent-encoded (RFC 6266, RFC 8187).
fn content_disposition(name: &str, sha256: &str) -> String {
    let ascii: String = name
        .chars()
        .take(200)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ascii = if ascii.trim().is_empty() {
        sha256.to_owned()
    } else {
        ascii
    };
    let encoded: String = name
        .chars()
        .take(200)
        .collect::<String>()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if encoded.is_empty() {
        format!("attachment; filename=\"{ascii}\"")
    } else {
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_break_out_of_the_header() {
        let h = content_disposition("evil\"; filename=x.html\r\nSet-Cookie: a=b", "00");
        assert!(HeaderValue::from_str(&h).is_ok(), "{h}");
        assert!(
            h.starts_with("attachment; filename=\"evil__ filename_x.html__Set-Cookie_ a_b\""),
            "{h}"
        );
        let h = content_disposition("отчёт.pdf", "00");
        assert!(h.contains("filename*=UTF-8''%D0%BE"), "{h}");
        assert_eq!(content_disposition("", "ab"), "attachment; filename=\"ab\"");
    }
}
