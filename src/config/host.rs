//! `server.host`: an IP address, or `localhost` for 127.0.0.1. Other host
//! names are refused rather than resolved: a name can stand for several
//! addresses, or a public one, and the listener must bind exactly one.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(host: &IpAddr, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(host)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IpAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_host(&text).map_err(serde::de::Error::custom)
}

fn parse_host(text: &str) -> Result<IpAddr, String> {
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(Ipv4Addr::LOCALHOST.into());
    }
    text.parse().map_err(|_| {
        format!(
            "`{}` is not an IP address (nor `localhost`): write `127.0.0.1` to listen on this machine only, or `0.0.0.0` for every interface",
            text.escape_debug()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_and_addresses_are_hosts_other_names_are_not() {
        assert_eq!(parse_host("localhost"), Ok(Ipv4Addr::LOCALHOST.into()));
        assert_eq!(parse_host("LocalHost"), Ok(Ipv4Addr::LOCALHOST.into()));
        assert_eq!(parse_host("::1"), Ok("::1".parse().unwrap()));
        assert_eq!(parse_host("0.0.0.0"), Ok(Ipv4Addr::UNSPECIFIED.into()));
        let error = parse_host("updates.example.com").unwrap_err();
        assert!(error.contains("`updates.example.com`"), "{error}");
        assert!(
            error.contains("127.0.0.1") && error.contains("0.0.0.0"),
            "{error}"
        );
    }
}
