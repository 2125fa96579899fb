//! The Atom feed of an application's public versions (RFC 4287).
//!
//! The server does not know the address it is reached at (a proxy may sit in
//! front), so links are absolute paths, resolved by the reader against the
//! feed's own address, and ids are `urn:updater:download:` names, which
//! never change when the host does.

use chrono::{DateTime, SecondsFormat, Utc};
use maud::{PreEscaped, html};
use quick_xml::escape::escape;

use super::{feed_path, labels, notes, page_path};
use crate::domain::catalog::PublicVersion;
use crate::domain::{Application, ArtifactKind};

pub fn render(app: &Application, versions: &[PublicVersion]) -> String {
    let updated = versions
        .iter()
        .map(|v| v.released)
        .max()
        .unwrap_or(app.updated_at);
    let page = page_path(&app.id);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <id>urn:updater:download:{id}</id>\n\
         <title>{name} releases</title>\n\
         <updated>{updated}</updated>\n\
         <author><name>{name}</name></author>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{feed}\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>\n",
        id = escape(app.id.as_str()),
        name = escape(app.name.as_str()),
        updated = timestamp(updated),
        feed = escape(feed_path(&app.id).as_str()),
        page = escape(page.as_str()),
    );
    for version in versions {
        xml.push_str(&format!(
            "<entry>\n\
             <id>urn:updater:download:{id}:{version}</id>\n\
             <title>{name} {version}</title>\n\
             <updated>{updated}</updated>\n\
             <link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>\n\
             <content type=\"html\">{content}</content>\n\
             </entry>\n",
            id = escape(app.id.as_str()),
            name = escape(app.name.as_str()),
            version = escape(version.version.to_string().as_str()),
            updated = timestamp(version.released),
            page = escape(page.as_str()),
            content = escape(content(version).as_str()),
        ));
    }
    xml.push_str("</feed>\n");
    xml
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The entry's HTML: the sanitised notes and the files of each target
/// (delta packages are for updaters, not people).
fn content(version: &PublicVersion) -> String {
    html! {
        (PreEscaped(notes::render(&version.release_notes)))
        ul {
            @for release in &version.releases {
                @for file in release.files.iter().filter(|f| f.kind != ArtifactKind::NupkgDelta) {
                    li {
                        (labels::target(&release.key.platform, &release.key.architecture))
                        ": " (file.file_name()) ", " (labels::size(file.size))
                    }
                }
            }
        }
    }
    .into_string()
}
