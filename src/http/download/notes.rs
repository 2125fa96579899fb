//! Release notes: Markdown, as publishers write them, rendered to HTML that
//! is safe to show anyone.
//!
//! The notes come from whoever holds a publish key, so the rendered HTML is
//! cleaned with ammonia's allow-list: no script, no event handler, no
//! `style`, no `javascript:` link. Images are dropped too: the page's policy
//! loads images from this origin only, and a remote image would be both a
//! policy violation and a tracking pixel.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// `markdown` as sanitised HTML. Headings start at `<h3>`, below the page's
/// own `<h1>` and the notes section's `<h2>`.
pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: demoted(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demoted(level))),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .link_rel(Some("noopener noreferrer"))
        .url_relative(ammonia::UrlRelative::Deny)
        .clean(&html)
        .to_string()
}

fn demoted(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_is_rendered() {
        let html = render("# New\n\n- **faster** start\n- [docs](https://example.com/docs)");
        assert!(html.contains("<h3>New</h3>"), "{html}");
        assert!(html.contains("<strong>faster</strong>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://example.com/docs" rel="noopener noreferrer">docs</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn active_content_is_removed() {
        let html = render(concat!(
            "<script>window.__xss = 1</script>\n\n",
            "<img src=x onerror=\"window.__xss = 2\">\n\n",
            "<a href=\"javascript:alert(1)\" onclick=\"x()\">link</a>\n\n",
            "<p style=\"color:red\" onmouseover=\"x()\">text</p>\n\n",
            "[md](javascript:alert(1)) ![pixel](https://tracker.example/p.gif)",
        ));
        for forbidden in [
            "<script",
            "__xss",
            "onerror",
            "onclick",
            "onmouseover",
            "javascript:",
            "style=",
            "<img",
        ] {
            assert!(!html.contains(forbidden), "{forbidden} in {html}");
        }
        assert!(html.contains("text"), "{html}");
    }
}
