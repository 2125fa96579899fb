//! The download page's HTML. maud escapes every value it interpolates; the
//! one `PreEscaped` is the release notes, which `notes::render` sanitised.

use chrono::SecondsFormat;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::visitor::Visitor;
use super::{ICON_PATH, STYLESHEET_PATH, feed_path, labels, notes, target_path};
use crate::domain::Application;
use crate::domain::catalog::PublicDownload;

pub fn render(app: &Application, downloads: &[PublicDownload], visitor: Option<Visitor>) -> String {
    let primary = visitor.and_then(|v| primary(downloads, v));
    let others: Vec<&PublicDownload> = downloads
        .iter()
        .enumerate()
        .filter(|(index, _)| Some(*index) != primary)
        .map(|(_, download)| download)
        .collect();
    let newest = downloads
        .iter()
        .max_by(|a, b| a.release.version().cmp(b.release.version()));
    let feed = feed_path(&app.id);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Download " (app.name) }
                @if !app.description.is_empty() {
                    meta name="description" content=(app.description);
                }
                link rel="stylesheet" href=(STYLESHEET_PATH);
                link rel="icon" type="image/svg+xml" href=(ICON_PATH);
                link rel="alternate" type="application/atom+xml"
                    title={ (app.name) " releases" } href=(feed);
            }
            body {
                main {
                    header.intro {
                        h1 { "Download " (app.name) }
                        @if !app.description.is_empty() {
                            p.description { (app.description) }
                        }
                    }
                    @if downloads.is_empty() {
                        p.empty { "No release is available for download yet." }
                    }
                    @if let Some(index) = primary {
                        section.recommended aria-labelledby="recommended-heading" {
                            h2 #recommended-heading { "Recommended for your system" }
                            (card(&app.id, &downloads[index], true))
                        }
                    }
                    @if !others.is_empty() {
                        section.others aria-labelledby="others-heading" {
                            h2 #others-heading {
                                @if primary.is_some() { "Other platforms" } @else { "Choose your platform" }
                            }
                            ul.downloads {
                                @for download in &others {
                                    li { (card(&app.id, download, false)) }
                                }
                            }
                        }
                    }
                    @if let Some(newest) = newest.filter(|n| !n.release.release_notes.trim().is_empty()) {
                        section.notes aria-labelledby="notes-heading" {
                            h2 #notes-heading { "What\u{2019}s new in " (newest.release.version()) }
                            div.notes-body { (PreEscaped(notes::render(&newest.release.release_notes))) }
                        }
                    }
                    footer {
                        a href=(feed) { "Release feed (Atom)" }
                    }
                }
            }
        }
    };
    markup.into_string()
}

/// The visitor's platform, on their architecture when the User-Agent named
/// one that has a download, else on the first that has one.
fn primary(downloads: &[PublicDownload], visitor: Visitor) -> Option<usize> {
    let on_platform = |d: &PublicDownload| d.release.key.platform == visitor.platform;
    visitor
        .architecture
        .and_then(|architecture| {
            downloads
                .iter()
                .position(|d| on_platform(d) && d.release.key.architecture == architecture)
        })
        .or_else(|| downloads.iter().position(on_platform))
}

fn card(app_id: &str, download: &PublicDownload, primary: bool) -> Markup {
    let key = &download.release.key;
    let label = labels::target(&key.platform, &key.architecture);
    let released = download.release.release_date;
    html! {
        article.download.primary[primary] data-platform=(key.platform) data-architecture=(key.architecture) {
            h3 { (label) }
            dl {
                div { dt { "Version" } dd.version { (key.version) } }
                div {
                    dt { "Released" }
                    dd {
                        time datetime=(released.to_rfc3339_opts(SecondsFormat::Secs, true)) {
                            (released.format("%-d %B %Y"))
                        }
                    }
                }
                div { dt { "File" } dd.file-name { (download.file.file_name()) } }
                div {
                    dt { "Size" }
                    dd { data.size value=(download.file.size) { (labels::size(download.file.size)) } }
                }
                @if let Some((algorithm, digest)) = labels::checksum(&download.file) {
                    div { dt { (algorithm) } dd { code.checksum { (digest) } } }
                }
            }
            a.button id=[primary.then_some("primary-download")]
                href=(target_path(app_id, &key.platform, &key.architecture)) {
                "Download for " (label)
            }
        }
    }
}
