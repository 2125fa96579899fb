//! Managed-key tokens and the key, audit and webhook routes: no input
//! panics the token parser, and no path, query or body gets a 5xx.

use proptest::prelude::*;
use serde_json::json;

use crate::common::sut::Token;
use crate::support::{Probe, Role, World, any_text, check, encoded, query};

const CASES: u32 = 256;
const ROUTE_CASES: u32 = 128;

/// Token-shaped text with every part bent: prefix, separator, lengths, case.
fn token_like() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => ("upd_|UPD_|upd|upd__|", "[0-9a-fA-F]{14,18}", "_|-|", "[0-9a-fA-F_]{60,68}")
            .prop_map(|(p, id, sep, secret)| format!("{p}{id}{sep}{secret}")),
        1 => any_text(100),
    ]
}

#[test]
fn token_parsing_never_panics_and_accepts_only_the_token_shape() {
    check(CASES, token_like(), |text| {
        if let Some(token) = Token::parse(&text) {
            prop_assert_eq!(&token.text, &text);
            prop_assert_eq!(text.len(), 85);
            prop_assert!(text.starts_with("upd_"));
            prop_assert!(Token::is_id(&token.id));
            prop_assert_eq!(&text[4..20], token.id.as_str());
        }
        Ok(())
    });
}

#[test]
fn generated_tokens_always_parse_back() {
    check(CASES, proptest::array::uniform32(any::<u8>()), |bytes| {
        let mut random = [0u8; 40];
        random[..32].copy_from_slice(&bytes);
        random[32..].copy_from_slice(&bytes[..8]);
        let token = Token::generate(&random);
        prop_assert_eq!(Token::parse(&token.text), Some(token));
        Ok(())
    });
}

const IDS: &[&str] = &[
    "0123456789abcdef",
    "0123456789ABCDEF",
    "wh_0123456789abcdef0123456789abcdef",
    "wh_",
    "rotate",
    "revoke",
    "deliveries",
    "",
];
const AUDIT_PARAMS: &[&str] = &[
    "application",
    "actor",
    "action",
    "since",
    "until",
    "cursor",
    "limit",
];
const AUDIT_VALUES: &[&str] = &[
    "demo",
    "release.",
    "key.created",
    "2026-01-01T00:00:00Z",
    "yesterday",
    "0",
    "-1",
    "1",
    "1000",
    "1001",
    "9223372036854775808",
];

fn access_routes() -> impl Strategy<Value = Probe> {
    let key_body = prop_oneof![
        Just(json!({"name": "ci", "permissions": ["publish"]})),
        Just(json!({"name": "", "permissions": []})),
        Just(json!({"name": "ci", "permissions": ["root"], "applications": []})),
        Just(json!({"name": "ci", "permissions": ["read"], "expires_in": "-5d"})),
        Just(json!({"name": "ci", "permissions": ["read"], "expires_at": "1970-01-01T00:00:00Z"})),
        any_text(40).prop_map(|t| json!({"name": t, "permissions": ["read"], "applications": [t]})),
    ];
    let hook_body = prop_oneof![
        Just(json!({"url": "https://example.com/h", "events": ["*"]})),
        Just(json!({"url": "http://10.0.0.1/h", "events": ["release.*"]})),
        Just(json!({"url": "https://example.com/h", "events": [], "secret": "whsec_!!"})),
        any_text(40).prop_map(|t| json!({"url": t, "events": [t], "application_id": t})),
    ];
    prop_oneof![
        (
            encoded(IDS),
            proptest::sample::select(&["", "/rotate", "/revoke", "/x"][..]),
            proptest::sample::select(&["GET", "POST", "DELETE"][..])
        )
            .prop_map(|(id, action, method)| {
                Probe::get(
                    format!("/api/v1/keys/{id}{action}"),
                    String::new(),
                    Role::Admin,
                    true,
                )
                .with(method, (method == "POST").then(|| json!({})))
            }),
        key_body.prop_map(|b| {
            Probe::get("/api/v1/keys".into(), String::new(), Role::Admin, true)
                .with("POST", Some(b))
        }),
        query(AUDIT_PARAMS, AUDIT_VALUES).prop_map(|q| Probe::get(
            "/api/v1/audit".into(),
            q,
            Role::Admin,
            true
        )),
        (
            encoded(IDS),
            proptest::sample::select(&["", "/deliveries"][..]),
            query(&["limit"], AUDIT_VALUES)
        )
            .prop_map(|(id, tail, q)| {
                Probe::get(format!("/api/v1/webhooks/{id}{tail}"), q, Role::Admin, true)
            }),
        hook_body.prop_map(|b| {
            Probe::get("/api/v1/webhooks".into(), String::new(), Role::Admin, true)
                .with("POST", Some(b))
        }),
    ]
}

#[test]
fn key_audit_and_webhook_routes_never_fail_with_a_5xx() {
    let world = World::seeded();
    check(ROUTE_CASES, access_routes(), |probe| {
        world.assert_sound(&probe)
    });
}
