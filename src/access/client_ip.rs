//! The client address: the peer, or behind trusted proxies the rightmost
//! `X-Forwarded-For` entry they did not add themselves.

use std::net::IpAddr;

use http::HeaderMap;
use ipnet::IpNet;

pub struct ClientIpResolver {
    trusted: Vec<IpNet>,
}

impl ClientIpResolver {
    /// `proxies` are validated IPs or CIDR ranges.
    pub fn new(proxies: &[String]) -> Self {
        let trusted = proxies
            .iter()
            .filter_map(|p| {
                p.parse::<IpNet>()
                    .ok()
                    .or_else(|| p.parse::<IpAddr>().ok().map(IpNet::from))
            })
            .collect();
        Self { trusted }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The peer, unless the peer is a trusted proxy: then the rightmost
    /// `X-Forwarded-For` entry that is not itself a trusted proxy. Entries to
    /// the left of that one are client-supplied and never believed.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let entries = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for entry in entries.iter().rev() {
            match entry.parse::<IpAddr>() {
                Ok(ip) if self.is_trusted(ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_peers() {
        let resolver = ClientIpResolver::new(&["10.0.0.0/8".into()]);
        let untrusted: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(resolver.resolve(untrusted, &headers("1.2.3.4")), untrusted);
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            resolver.resolve(proxy, &headers("6.6.6.6, 198.51.100.7, 10.0.0.1")),
            "198.51.100.7".parse::<IpAddr>().unwrap(),
            "the rightmost untrusted entry, not the spoofable leftmost"
        );
        assert_eq!(resolver.resolve(proxy, &HeaderMap::new()), proxy);
        assert_eq!(resolver.resolve(proxy, &headers("garbage")), proxy);
    }
}
