//! The web console's routes with a signed-in session: no path, query or
//! form, with the right CSRF token or a wrong one, gets a 5xx. (Sign-out is
//! left out: it would end the session the other cases use.)

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use crate::common::{ADMIN_KEY, test_settings};
use crate::routes::{APPS, ARCHS, PLATFORMS, VERSIONS};
use crate::support::{Probe, Role, World, any_text, check, encoded, query, slot};

const CASES: u32 = 160;
const ACTIONS: &[&str] = &["raise", "pause", "resume", "yank", "restore", "explode", ""];
const FORM_FIELDS: &[&str] = &["csrf", "percentage", "reason", "key"];
const FORM_VALUES: &[&str] = &["0", "50", "100", "101", "-1", "ten", "", "crash"];
const AUDIT_FIELDS: &[&str] = &["application", "actor", "action", "cursor", "days"];
const AUDIT_VALUES: &[&str] = &[
    "demo",
    "release.",
    "1",
    "0",
    "-3",
    "7",
    "30",
    "9223372036854775808",
];

struct Session {
    world: World,
    cookie: String,
    csrf: String,
}

fn signed_in() -> Session {
    let mut settings = test_settings();
    settings.console.enabled = true;
    let world = World::seeded_with(settings);
    let mut login = Probe::get(
        "/console/login".into(),
        String::new(),
        Role::Anonymous,
        false,
    );
    login.method = "POST";
    login.body = Some((
        Some("application/x-www-form-urlencoded".into()),
        format!("key={ADMIN_KEY}").into_bytes(),
    ));
    let reply = world.send(&login);
    assert_eq!(reply.status, 303, "{}", reply.text);
    let cookie = reply.set_cookie().expect("a session cookie");
    let mut apps = Probe::get(
        "/console/apps".into(),
        String::new(),
        Role::Anonymous,
        false,
    );
    apps.headers.push(("cookie", cookie.clone()));
    let page = world.send(&apps);
    let csrf = page.csrf_token().expect("a CSRF token on the page");
    Session {
        world,
        cookie,
        csrf,
    }
}

#[derive(Debug, Clone)]
enum Token {
    Right,
    Wrong(String),
    Missing,
}

fn console_paths() -> impl Strategy<Value = String> {
    prop_oneof![
        encoded(APPS).prop_map(|app| format!("/console/apps/{app}")),
        (encoded(APPS), query(&["days"], AUDIT_VALUES))
            .prop_map(|(app, q)| format!("/console/apps/{app}/adoption?{q}")),
        (
            slot(APPS),
            slot(VERSIONS),
            slot(PLATFORMS),
            slot(ARCHS),
            encoded(ACTIONS),
            query(&["percentage"], FORM_VALUES)
        )
            .prop_map(|(app, version, platform, arch, action, q)| {
                format!("/console/apps/{app}/releases/{version}/{platform}/{arch}/{action}?{q}")
            }),
        query(AUDIT_FIELDS, AUDIT_VALUES).prop_map(|q| format!("/console/audit?{q}")),
        Just("/console/keys".to_string()),
        Just("/console/webhooks".to_string()),
        Just("/console/login".to_string()),
    ]
}

fn console_requests() -> impl Strategy<Value = (String, &'static str, Token, String, bool)> {
    let token = prop_oneof![
        3 => Just(Token::Right),
        1 => any_text(50).prop_map(Token::Wrong),
        1 => Just(Token::Missing),
    ];
    (
        console_paths(),
        proptest::sample::select(&["GET", "POST", "PUT"][..]),
        token,
        query(FORM_FIELDS, FORM_VALUES),
        any::<bool>(),
    )
}

#[test]
fn console_routes_never_fail_with_a_5xx() {
    let session = signed_in();
    let (pages, redirects) = (AtomicUsize::new(0), AtomicUsize::new(0));
    check(
        CASES,
        console_requests(),
        |(uri, method, token, form, browser)| {
            let mut probe = Probe::get(uri, String::new(), Role::Anonymous, false);
            probe.method = method;
            probe.headers.push(("cookie", session.cookie.clone()));
            if browser {
                probe.headers.push(("accept", "text/html".into()));
                probe.headers.push(("sec-fetch-site", "same-origin".into()));
            }
            if method != "GET" {
                let csrf = match &token {
                    Token::Right => format!("csrf={}&", session.csrf),
                    Token::Wrong(text) => {
                        format!("csrf={}&", crate::support::encode(text.as_bytes(), false))
                    }
                    Token::Missing => String::new(),
                };
                probe.body = Some((
                    Some("application/x-www-form-urlencoded".into()),
                    format!("{csrf}{form}").into_bytes(),
                ));
            }
            let reply = session.world.send(&probe);
            match reply.status {
                200 => pages.fetch_add(1, Ordering::Relaxed),
                303 => redirects.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
            World::assert_reply_sound(&probe, &reply)
        },
    );
    // The generated requests reach the pages and the changes, not only refusals.
    assert!(pages.load(Ordering::Relaxed) > 10, "pages rendered");
    assert!(redirects.load(Ordering::Relaxed) > 0, "changes applied");
}
