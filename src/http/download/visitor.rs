//! The visitor's platform, guessed from the `User-Agent`, to pick the
//! download the page offers first. A wrong guess costs one click: every
//! other platform is listed below it.

/// What the User-Agent says the visitor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visitor {
    pub platform: &'static str,
    /// Only when the User-Agent names it: browsers on Apple silicon Macs
    /// still say "Intel Mac OS X", so a Mac's is never known.
    pub architecture: Option<&'static str>,
}

/// The platform named by `user_agent`. The order matters: Android agents
/// say "Linux", iOS agents say "like Mac OS X".
pub fn from_user_agent(user_agent: &str) -> Option<Visitor> {
    let platform = if user_agent.contains("Android") {
        "android"
    } else if ["iPhone", "iPad", "iPod"]
        .iter()
        .any(|device| user_agent.contains(device))
    {
        "ios"
    } else if user_agent.contains("Windows") {
        "windows"
    } else if user_agent.contains("Macintosh") || user_agent.contains("Mac OS X") {
        "darwin"
    } else if user_agent.contains("Linux") || user_agent.contains("X11") {
        "linux"
    } else {
        return None;
    };
    let architecture = match platform {
        "windows" | "linux" => architecture(user_agent),
        _ => None,
    };
    Some(Visitor {
        platform,
        architecture,
    })
}

fn architecture(user_agent: &str) -> Option<&'static str> {
    let names: [(&[&str], &'static str); 4] = [
        (&["ARM64", "aarch64", "arm64"], "arm64"),
        (&["x86_64", "Win64", "x64", "WOW64", "amd64"], "amd64"),
        (&["i686", "i386"], "386"),
        (&["armv7", "armv6"], "arm"),
    ];
    names
        .iter()
        .find(|(tokens, _)| tokens.iter().any(|token| user_agent.contains(token)))
        .map(|(_, architecture)| *architecture)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                Some(("windows", Some("amd64"))),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; ARM64; rv:133.0) Gecko/20100101 Firefox/133.0",
                Some(("windows", Some("arm64"))),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                Some(("darwin", None)),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                Some(("linux", Some("amd64"))),
            ),
            (
                "Mozilla/5.0 (X11; Linux aarch64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                Some(("linux", Some("arm64"))),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                Some(("android", None)),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                Some(("ios", None)),
            ),
            ("curl/8.5.0", None),
            ("", None),
        ];
        for (user_agent, expected) in cases {
            let found = from_user_agent(user_agent).map(|v| (v.platform, v.architecture));
            assert_eq!(found, expected, "{user_agent}");
        }
    }
}
