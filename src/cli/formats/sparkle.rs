//! Sparkle appcasts as `generate_appcast` writes them: one `<item>` per
//! version with `<sparkle:version>`, `<sparkle:shortVersionString>`,
//! `<sparkle:minimumSystemVersion>`, `<description>` (release notes),
//! `<pubDate>` (RFC 822), `<sparkle:channel>` and an `<enclosure url length
//! sparkle:edSignature sparkle:os>`. The version is `shortVersionString` when
//! it is a version, else `sparkle:version` (element or enclosure attribute).
//! Delta enclosures (`<sparkle:deltas>`) are skipped: the server serves full
//! archives only. An archive whose name gives no architecture is for every
//! Mac (amd64 and arm64), as a Sparkle feed is.

use chrono::{DateTime, Utc};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{
    FeedFile, FeedRelease, FormatError, group_targets, invalid, name_hints, normalise_version,
};
use crate::domain::{ArtifactKind, normalize_platform};

#[derive(Default)]
struct Item {
    title: Option<String>,
    pub_date: Option<String>,
    version: Option<String>,
    short_version: Option<String>,
    minimum_system_version: Option<String>,
    description: Option<String>,
    channel: Option<String>,
    enclosure: Option<Enclosure>,
}

#[derive(Default)]
struct Enclosure {
    url: Option<String>,
    length: Option<String>,
    ed_signature: Option<String>,
    os: Option<String>,
    version: Option<String>,
    short_version: Option<String>,
}

fn enclosure(element: &BytesStart<'_>) -> Result<Enclosure, FormatError> {
    let mut enclosure = Enclosure::default();
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| invalid(format!("enclosure: {e}")))?;
        #[allow(deprecated)] // `normalized_value` also folds whitespace, which URLs don't need.
        let value = attribute
            .unescape_value()
            .map_err(|e| invalid(format!("enclosure: {e}")))?
            .into_owned();
        match attribute.key.as_ref() {
            "url" => enclosure.url = Some(value),
            "length" => enclosure.length = Some(value),
            "sparkle:edSignature" => enclosure.ed_signature = Some(value),
            "sparkle:os" => enclosure.os = Some(value),
            "sparkle:version" => enclosure.version = Some(value),
            "sparkle:shortVersionString" => enclosure.short_version = Some(value),
            _ => {}
        }
    }
    Ok(enclosure)
}

pub fn parse(text: &str) -> Result<Vec<FeedRelease>, FormatError> {
    let mut reader = Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    let mut item: Option<Item> = None;
    let mut releases = Vec::new();
    let mut content = String::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            invalid(format!(
                "is not well-formed XML (byte {}): {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Start(element) => {
                let name = element.name().as_ref().to_string();
                take_enclosure(&mut item, &open, &name, &element)?;
                if name == "item" {
                    item = Some(Item::default());
                }
                open.push(name);
                content.clear();
            }
            Event::Empty(element) => {
                let name = element.name().as_ref().to_string();
                take_enclosure(&mut item, &open, &name, &element)?;
            }
            Event::Text(part) => content.push_str(&part.into_inner()),
            Event::CData(part) => content.push_str(&part.into_inner()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| invalid(format!("unknown entity `&{};`", &*reference)))?
                        .to_string(),
                };
                content.push_str(&resolved);
            }
            Event::End(_) => {
                let name = open.pop().unwrap_or_default();
                if name == "item" {
                    if let Some(done) = item.take() {
                        releases.push(release(done, releases.len())?);
                    }
                } else if let Some(current) = item.as_mut()
                    && open.last().is_some_and(|parent| parent == "item")
                {
                    let value = Some(content.trim().to_string()).filter(|v| !v.is_empty());
                    match name.as_str() {
                        "title" => current.title = value,
                        "pubDate" => current.pub_date = value,
                        "sparkle:version" => current.version = value,
                        "sparkle:shortVersionString" => current.short_version = value,
                        "sparkle:minimumSystemVersion" => current.minimum_system_version = value,
                        "description" => current.description = value,
                        "sparkle:channel" => current.channel = value,
                        _ => {}
                    }
                }
                content.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if releases.is_empty() && !text.contains("<rss") {
        return Err(invalid("is not an RSS appcast (no <rss> element)"));
    }
    Ok(releases)
}

/// An item's own enclosure; those in `<sparkle:deltas>` are skipped.
fn take_enclosure(
    item: &mut Option<Item>,
    open: &[String],
    name: &str,
    element: &BytesStart<'_>,
) -> Result<(), FormatError> {
    if let Some(item) = item.as_mut()
        && name == "enclosure"
        && !open.iter().any(|n| n == "sparkle:deltas")
    {
        item.enclosure = Some(enclosure(element)?);
    }
    Ok(())
}

fn release(item: Item, index: usize) -> Result<FeedRelease, FormatError> {
    let label = match &item.title {
        Some(title) => format!("item {} ({title})", index + 1),
        None => format!("item {}", index + 1),
    };
    let problem = |what: String| invalid(format!("{label}: {what}"));
    let enclosure = item
        .enclosure
        .ok_or_else(|| problem("has no <enclosure>".into()))?;
    let candidates = [
        item.short_version.as_deref(),
        enclosure.short_version.as_deref(),
        item.version.as_deref(),
        enclosure.version.as_deref(),
    ];
    let given: Vec<&str> = candidates.into_iter().flatten().collect();
    let version = given
        .iter()
        .find_map(|v| normalise_version(v).ok())
        .ok_or_else(|| match given.first() {
            Some(v) => problem(format!("version `{}` is not a version", v.escape_debug())),
            None => problem("has no sparkle:version or sparkle:shortVersionString".into()),
        })?;
    let url = enclosure
        .url
        .ok_or_else(|| problem("the enclosure has no url".into()))?;
    let mut file = FeedFile::new(url, ArtifactKind::Zip);
    let name = file.file_name();
    file.kind = ArtifactKind::from_url(&name)
        .filter(|k| {
            matches!(
                k,
                ArtifactKind::Zip
                    | ArtifactKind::Dmg
                    | ArtifactKind::App
                    | ArtifactKind::Msi
                    | ArtifactKind::Nsis
            )
        })
        .ok_or_else(|| problem(format!("cannot tell the archive kind of `{name}`")))?;
    file.size = enclosure
        .length
        .map(|l| {
            l.trim()
                .parse::<u64>()
                .map_err(|_| problem(format!("length `{l}` is not a size")))
        })
        .transpose()?;
    file.ed_signature = enclosure.ed_signature;
    let platform = match enclosure.os.as_deref() {
        Some(os) => normalize_platform(os)
            .ok_or_else(|| problem(format!("sparkle:os `{os}` is not macos or windows")))?,
        None => "darwin",
    };
    let mut architectures = name_hints(&name).architectures;
    if architectures.is_empty() && platform == "darwin" {
        architectures = vec!["amd64", "arm64"];
    }
    let date = item
        .pub_date
        .map(|d| {
            DateTime::parse_from_rfc2822(&d)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| problem(format!("pubDate `{d}` is not RFC 822: {e}")))
        })
        .transpose()?;
    Ok(FeedRelease {
        version,
        notes: item.description,
        date,
        channel: item.channel,
        rollout_percentage: None,
        targets: group_targets(
            vec![(Some(platform), architectures, file)],
            item.minimum_system_version.as_deref(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPCAST: &str = r#"<?xml version="1.0" standalone="yes"?>
<rss xmlns:sparkle="http://www.andymatuschak.org/xml-namespaces/sparkle" version="2.0">
    <channel>
        <title>Demo</title>
        <item>
            <title>1.2.0</title>
            <pubDate>Thu, 03 Dec 2026 16:32:32 +0000</pubDate>
            <sparkle:version>120</sparkle:version>
            <sparkle:shortVersionString>1.2.0</sparkle:shortVersionString>
            <sparkle:minimumSystemVersion>10.15</sparkle:minimumSystemVersion>
            <sparkle:channel>beta</sparkle:channel>
            <description><![CDATA[<h2>Fixes</h2>]]></description>
            <enclosure url="https://downloads.example.com/Demo-1.2.0.zip?a=1&amp;b=2" length="4608" type="application/octet-stream" sparkle:edSignature="XlaP=="/>
            <sparkle:deltas>
                <enclosure url="https://downloads.example.com/Demo1.2.0-1.1.0.delta" sparkle:deltaFrom="110" length="10" sparkle:edSignature="ZGVsdGE="/>
            </sparkle:deltas>
        </item>
        <item>
            <title>1.1.0</title>
            <sparkle:version>1.1.0</sparkle:version>
            <description>Older &amp; wiser</description>
            <enclosure url="https://downloads.example.com/Demo-1.1.0-arm64.dmg" length="4096" sparkle:edSignature="RkU3"/>
        </item>
    </channel>
</rss>"#;

    #[test]
    fn items_become_releases() {
        let releases = parse(APPCAST).unwrap();
        assert_eq!(releases.len(), 2);
        let newest = &releases[0];
        assert_eq!(newest.version, "1.2.0");
        assert_eq!(newest.channel.as_deref(), Some("beta"));
        assert_eq!(newest.notes.as_deref(), Some("<h2>Fixes</h2>"));
        assert_eq!(
            newest.date.unwrap().to_rfc3339(),
            "2026-12-03T16:32:32+00:00"
        );
        let targets: Vec<_> = newest
            .targets
            .iter()
            .map(|t| (t.platform, t.architecture))
            .collect();
        assert_eq!(
            targets,
            [
                (Some("darwin"), Some("amd64")),
                (Some("darwin"), Some("arm64"))
            ]
        );
        let file = &newest.targets[0].files[0];
        assert_eq!(
            file.location,
            "https://downloads.example.com/Demo-1.2.0.zip?a=1&b=2"
        );
        assert_eq!((file.kind, file.size), (ArtifactKind::Zip, Some(4608)));
        assert_eq!(file.ed_signature.as_deref(), Some("XlaP=="));
        assert_eq!(
            newest.targets[0].minimum_system_version.as_deref(),
            Some("10.15")
        );
        let older = &releases[1];
        assert_eq!(older.notes.as_deref(), Some("Older & wiser"));
        assert_eq!(older.targets.len(), 1);
        assert_eq!(older.targets[0].architecture, Some("arm64"));
        assert_eq!(older.targets[0].files[0].kind, ArtifactKind::Dmg);
    }

    #[test]
    fn refuses_items_it_cannot_read() {
        let no_version = r#"<rss><channel><item><title>x</title><enclosure url="https://a/b.zip" length="1"/></item></channel></rss>"#;
        let error = parse(no_version).unwrap_err().to_string();
        assert_eq!(
            error,
            "item 1 (x): has no sparkle:version or sparkle:shortVersionString"
        );
        let no_enclosure =
            r#"<rss><channel><item><sparkle:version>1.0</sparkle:version></item></channel></rss>"#;
        assert!(
            parse(no_enclosure)
                .unwrap_err()
                .to_string()
                .contains("has no <enclosure>")
        );
        assert!(
            parse("<rss><channel><item>").is_err()
                || parse("<rss><channel><item>").unwrap().is_empty()
        );
        assert!(
            parse("<html/>")
                .unwrap_err()
                .to_string()
                .contains("not an RSS appcast")
        );
        let broken = "<rss><channel></item></rss>";
        assert!(
            parse(broken)
                .unwrap_err()
                .to_string()
                .contains("well-formed")
        );
    }
}
