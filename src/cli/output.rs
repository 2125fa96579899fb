//! Tables for people, JSON for scripts. A token goes to stdout alone (so
//! `TOKEN=$(updater keys create ...)` captures it), everything said about it
//! to stderr; no other output ever carries a token.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::failure::Failure;
use super::views::{AuditPage, IssuedView, KeyList, KeyView};

/// Text from the store or a server, safe for a terminal: control
/// characters (escape sequences) are shown escaped.
pub fn clean(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let shown: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect()
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly.
pub fn emit(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(format!("cannot write to stdout: {e}"))),
    }
}

pub fn json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(format!("cannot render JSON: {e}")))?;
    emit(&format!("{text}\n"))
}

/// Columns padded to their widest cell; the last is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        text.push('\n');
    }
    text
}

fn scope(key: &KeyView) -> String {
    key.applications
        .as_ref()
        .map_or_else(|| "*".to_string(), |apps| clean(&apps.join(",")))
}

fn key_row(key: &KeyView) -> Vec<String> {
    vec![
        clean(&key.id),
        clean(&key.name),
        clean(&key.status),
        clean(&key.permissions.join(",")),
        scope(key),
        time(key.expires_at),
        time(key.last_used_at),
        time(Some(key.created_at)),
        clean(&key.created_by),
    ]
}

const KEY_HEADER: [&str; 9] = [
    "ID",
    "NAME",
    "STATUS",
    "PERMISSIONS",
    "APPLICATIONS",
    "EXPIRES",
    "LAST USED",
    "CREATED",
    "CREATED BY",
];

pub fn keys(list: &KeyList, as_json: bool) -> Result<(), Failure> {
    if as_json {
        return json(list);
    }
    let keys = &list.keys;
    if keys.is_empty() {
        eprintln!("no managed keys");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = keys.iter().map(key_row).collect();
    emit(&table(&KEY_HEADER, &rows))
}

pub fn key(key: &KeyView, as_json: bool) -> Result<(), Failure> {
    if as_json {
        return json(key);
    }
    emit(&table(&KEY_HEADER, &[key_row(key)]))
}

/// `verb`: `created` or `rotated`. The token is written once, to stdout.
pub fn issued(issued: &IssuedView, verb: &str, as_json: bool) -> Result<(), Failure> {
    let key = &issued.key;
    let written = if as_json {
        json(issued)
    } else {
        eprintln!(
            "{verb} key {} `{}`: permissions {}, applications {}, expires {}",
            clean(&key.id),
            clean(&key.name),
            clean(&key.permissions.join(",")),
            scope(key),
            time(key.expires_at),
        );
        emit(&format!("{}\n", clean(&issued.token)))
    };
    match written {
        Ok(()) => {
            eprintln!(
                "warning: the token is shown only this once and cannot be recovered; store it now"
            );
            Ok(())
        }
        Err(e) => Err(Failure::new(format!(
            "{}; key {} was {verb} but its token is lost: run `updater keys rotate {}` for a new one",
            e.message,
            clean(&key.id),
            clean(&key.id)
        ))),
    }
}

fn changes(entry: &super::views::AuditEntryView) -> String {
    let show = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_string(), clean);
    entry
        .changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} -> {}",
                clean(&c.field),
                show(&c.before),
                show(&c.after)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn audit(page: &AuditPage, as_json: bool) -> Result<(), Failure> {
    if as_json {
        return json(page);
    }
    if page.entries.is_empty() {
        eprintln!("no audit entries match");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = page
        .entries
        .iter()
        .map(|e| {
            let actor = match &e.actor.key_id {
                Some(id) => format!("{} {} ({})", e.actor.kind, e.actor.name, id),
                None => format!("{} {}", e.actor.kind, e.actor.name),
            };
            vec![
                e.id.to_string(),
                time(Some(e.at)),
                clean(&actor),
                clean(&e.action),
                e.application_id
                    .as_deref()
                    .map_or_else(|| "-".into(), clean),
                clean(&e.target),
                e.client_ip.as_deref().map_or_else(|| "-".into(), clean),
                changes(e),
            ]
        })
        .collect();
    emit(&table(
        &[
            "ID",
            "AT",
            "ACTOR",
            "ACTION",
            "APPLICATION",
            "TARGET",
            "CLIENT",
            "CHANGES",
        ],
        &rows,
    ))?;
    if let Some(cursor) = page.next_cursor {
        eprintln!("more entries: add --cursor {cursor}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(clean("plain name"), "plain name");
    }

    #[test]
    fn tables_align_columns() {
        let text = table(
            &["A", "BB"],
            &[
                vec!["long".into(), "x".into()],
                vec!["s".into(), "y".into()],
            ],
        );
        assert_eq!(text, "A     BB\nlong  x\ns     y\n");
    }
}
