//! Extractors whose failures carry the service's error envelope: malformed
//! JSON is 400, a wrong content type 415, a body too large 413, and values of
//! the wrong shape 422 with the offending field named. The API's write
//! bodies are read field by field instead ([`super::body`]).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::validate::{FieldErrors, check_application_id};

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = json_value(request, state).await?;
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                ApiError::field(&field_name(&path, &message, "body"), message)
            })
    }
}

/// A request's JSON body as a value: 415 unless the content type is JSON,
/// 413 when too large, 400 when it is not UTF-8 or not JSON.
pub async fn json_value<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<serde_json::Value, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "Content-Type must be application/json",
        ));
    }
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "BAD_REQUEST",
                    "request body too large",
                )
            } else {
                ApiError::bad_request(format!(
                    "could not read the request body: {}",
                    rejection.body_text()
                ))
            }
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("Invalid JSON body: not valid UTF-8"))?;
    // Syntax first (including trailing data), so malformed JSON is always a 400.
    serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}

/// serde reports missing or unknown fields at the root (`.`); name the field instead.
fn field_name(path: &str, message: &str, fallback: &str) -> String {
    if path != "." {
        return path.to_string();
    }
    let quoted = message.find('`').and_then(|start| {
        message[start + 1..]
            .find('`')
            .map(|len| &message[start + 1..start + 1 + len])
    });
    quoted.unwrap_or(fallback).to_string()
}

/// Query parameters; a repeated or malformed parameter is a 422, and so is an
/// unknown one where the target type denies unknown fields.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                ApiError::field(&field_name(&path, &message, "query"), message)
            })
    }
}

/// Rejects application ids that could never exist, before any lookup.
pub fn valid_app_id(id: &str, field: &str) -> Result<(), ApiError> {
    check_application_id(id).map_err(|problem| {
        let mut errors = FieldErrors::default();
        errors.add(field, problem);
        ApiError::validation(errors)
    })
}

/// An install's id for staged rollouts: the explicit parameter, else the
/// `X-Install-Id` header, else electron-updater's `x-user-staging-id`.
/// 1 to 128 characters of `[A-Za-z0-9._:-]`.
pub fn install_id(
    headers: &axum::http::HeaderMap,
    explicit: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let from_headers = || {
        ["x-install-id", "x-user-staging-id"]
            .iter()
            .find_map(|name| headers.get(*name))
            .map(|v| v.to_str().unwrap_or("\u{0}"))
    };
    let Some(id) = explicit.or_else(from_headers) else {
        return Ok(None);
    };
    let valid = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if valid {
        Ok(Some(id.to_string()))
    } else {
        Err(ApiError::field(
            "install_id",
            "must be 1-128 characters of letters, digits, '-', '_', '.' or ':'",
        ))
    }
}
