//! The JSON API's extractors: axum's `Json`, `Query` and `Path`, whose
//! refusals (bad JSON, a bad query string, a bad path parameter) answer
//! the documented `{"error": {"code", "message"}}` body instead of text.
//! A body or parameter that does not match its declared shape is a 400;
//! 422 is left to the domain's rules.

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Axum's message for a refusal, in our error body with its status.
fn refused(rejection: impl axum::response::IntoResponse + std::fmt::Display) -> ApiError {
    let message = rejection.to_string();
    let status = rejection.into_response().status();
    // A body of the wrong shape (axum: 422) does not match the declared
    // schema: 400, like bad syntax. 422 is kept for the domain's rules.
    let status = match status {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY => axum::http::StatusCode::BAD_REQUEST,
        other => other,
    };
    let code = match status.as_u16() {
        413 => "too_large",
        415 => "unsupported_media_type",
        _ => "invalid_input",
    };
    ApiError::new(status, code, message)
}

/// A JSON body. JSON has one kind of number: `2.0` is the integer 2, so a
/// whole number written with a fraction is read as that integer (the
/// OpenAPI document's `integer` admits it too).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> ApiJson<T> {
    fn read(axum::Json(value): axum::Json<serde_json::Value>) -> Result<Self, ApiError> {
        typed(value).map(ApiJson)
    }

    /// A body read by the handler itself (a route that takes other media
    /// types too), by the same rules.
    pub fn parse(bytes: &[u8]) -> Result<T, ApiError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
        typed(value)
    }
}

fn typed<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, ApiError> {
    // Every request body of the API is an object (or `null` for an
    // optional one); serde would otherwise read a struct from an array of
    // its fields (`[]` for one whose fields all have defaults).
    if !value.is_object() && !value.is_null() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    whole_numbers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        ApiError::bad_request(format!(
            "Failed to deserialize the JSON body into the target type: {e}"
        ))
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = <axum::Json<serde_json::Value> as FromRequest<S>>::from_request(req, state)
            .await
            .map_err(refused)?;
        ApiJson::read(json)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let json =
            <axum::Json<serde_json::Value> as OptionalFromRequest<S>>::from_request(req, state)
                .await
                .map_err(refused)?;
        json.map(ApiJson::read).transpose()
    }
}

/// Past 2^53 a float no longer names one integer.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// Rewrites every whole float (`2.0`) as the integer it is.
fn whole_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                // Exact: a whole float within 2^53 converts without loss.
                *n = serde_json::Number::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Query-string parameters.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(refused)
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_become_integers_and_others_stay() {
        let mut v = serde_json::json!({"a": 2723.0, "b": [1.5, -4.0, 1e300], "c": "2.0", "d": 7});
        whole_numbers(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": 2723, "b": [1.5, -4, 1e300], "c": "2.0", "d": 7})
        );
        assert!(v["a"].is_u64() && v["b"][1].is_i64());
    }
}
