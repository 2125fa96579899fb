//! One error envelope for every failure: unknown routes, wrong methods and
//! content types, malformed and oversized bodies, panics; and request ids.

use axum::body::Body;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::sut::panic_response;

#[tokio::test]
async fn error_responses_share_one_envelope() {
    let app = TestApp::new().await;
    let anonymous = app.anonymous();
    let unknown = anonymous.get("/no/such/route").await;
    unknown.assert_error(404, "NOT_FOUND");

    let wrong_method = anonymous.call("PATCH", "/api/v1/check", None).await;
    wrong_method.assert_error(405, "INVALID_REQUEST");
    let allow = wrong_method
        .headers
        .get("allow")
        .expect("405 carries Allow")
        .to_str()
        .unwrap();
    assert!(allow.contains("POST"), "{allow}");

    let wrong_type = app
        .send(
            anonymous
                .request("POST", "/api/v1/check")
                .header("content-type", "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    wrong_type.assert_error(415, "BAD_REQUEST");

    let malformed = app
        .send(
            anonymous
                .request("POST", "/api/v1/check")
                .header("content-type", "application/json")
                .body(Body::from("{\"application_id\": "))
                .unwrap(),
        )
        .await;
    malformed.assert_error(400, "INVALID_REQUEST");

    let trailing = app
        .send(
            anonymous
                .request("POST", "/api/v1/check")
                .header("content-type", "application/json")
                .body(Body::from("{} {}"))
                .unwrap(),
        )
        .await;
    trailing.assert_error(400, "INVALID_REQUEST");

    let not_utf8 = app
        .send(
            anonymous
                .request("POST", "/api/v1/check")
                .header("content-type", "application/json")
                .body(Body::from(vec![b'{', 0xff, 0xfe, b'}']))
                .unwrap(),
        )
        .await;
    not_utf8.assert_error(400, "INVALID_REQUEST");

    let wrong_shape = anonymous.check_by_body(&json!({"application_id": 5})).await;
    wrong_shape.assert_error(422, "VALIDATION_ERROR");
    assert!(
        wrong_shape.body["details"]["application_id"].is_string(),
        "{}",
        wrong_shape.text
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::new().await;
    let big = vec![b' '; 2 * 1024 * 1024];
    let with_length = app
        .send(
            app.publisher()
                .request("POST", "/api/v1/applications")
                .header("content-type", "application/json")
                .header("content-length", big.len())
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    with_length.assert_error(413, "BAD_REQUEST");
    let stream = futures_stream(big);
    let chunked = app
        .send(
            app.publisher()
                .request("POST", "/api/v1/applications")
                .header("content-type", "application/json")
                .body(stream)
                .unwrap(),
        )
        .await;
    chunked.assert_error(413, "BAD_REQUEST");
}

fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn request_ids_are_kept_when_valid_and_replaced_otherwise() {
    let app = TestApp::new().await;
    let kept = app
        .anonymous()
        .get_with("/health", ("x-request-id", "trace-abc.123"))
        .await;
    assert_eq!(kept.headers["x-request-id"], "trace-abc.123");
    for bad in ["has space", "a\"quote", &"x".repeat(200)] {
        let replaced = app
            .anonymous()
            .get_with("/health", ("x-request-id", bad))
            .await;
        let id = replaced.header("x-request-id");
        assert_ne!(id, bad);
        assert_eq!(id.len(), 36, "a fresh UUID");
    }
}

#[test]
fn a_panic_becomes_a_json_500_without_internals() {
    let response = panic_response(Box::new("secret detail in panic".to_string()));
    assert_eq!(response.status(), 500);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bytes = runtime.block_on(async {
        use http_body_util::BodyExt;
        response.into_body().collect().await.unwrap().to_bytes()
    });
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["code"], "INTERNAL_ERROR");
    assert!(!String::from_utf8_lossy(&bytes).contains("secret detail"));
}
