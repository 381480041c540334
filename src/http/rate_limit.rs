//! Rate limits: a token bucket per API key and per client address. A caller may make
//! `per_second` requests a second on average and `burst` at once; past that it is told when
//! to come back (`429` with `Retry-After`).

use crate::config::RateLimit;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Callers remembered before full buckets (callers idle long enough) are forgotten; a sweep
/// runs at most once a second, so that many active callers do not make each request scan.
const SWEEP_AT: usize = 10_000;
/// Callers remembered at most: past it (after a sweep), the oldest are forgotten, so a flood
/// of new addresses cannot grow the map without bound.
const MAX_CALLERS: usize = 100_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

struct Buckets<K> {
    per_second: f64,
    burst: f64,
    callers: Mutex<Callers<K>>,
}

struct Callers<K> {
    buckets: HashMap<K, Bucket>,
    last_sweep: Option<Instant>,
}

impl<K: Eq + Hash + Clone> Buckets<K> {
    fn new(per_second: u32, burst: u32) -> Option<Self> {
        (per_second > 0).then(|| Buckets {
            per_second: per_second as f64,
            burst: burst.max(1) as f64,
            callers: Mutex::new(Callers {
                buckets: HashMap::new(),
                last_sweep: None,
            }),
        })
    }

    /// Takes `cost` tokens from `caller`'s bucket, or says how long until it holds them.
    fn take(&self, caller: &K, cost: u32, now: Instant) -> Result<(), Duration> {
        let cost = (cost as f64).min(self.burst);
        let mut guard = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        let callers = &mut *guard;
        let due = callers
            .last_sweep
            .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1));
        if callers.buckets.len() >= SWEEP_AT && due {
            callers.last_sweep = Some(now);
            let (per_second, burst) = (self.per_second, self.burst);
            callers.buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst
            });
            if callers.buckets.len() >= MAX_CALLERS {
                // Still too many active callers: keep the most recent half.
                let mut ages: Vec<Instant> = callers.buckets.values().map(|b| b.updated).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                callers.buckets.retain(|_, b| b.updated >= cut);
            }
        }
        let bucket = callers.buckets.entry(caller.clone()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            return Ok(());
        }
        Err(Duration::from_secs_f64(
            (cost - bucket.tokens) / self.per_second,
        ))
    }
}

/// Who a request is counted against.
pub enum Client<'a> {
    Key(&'a str),
    Address(Option<IpAddr>),
}

pub struct RateLimiter {
    per_key: Option<Buckets<String>>,
    per_address: Option<Buckets<IpAddr>>,
}

/// The part of an address that names a client: IPv4 whole, IPv6 by its /64 (one host holds a
/// whole /64, and would otherwise get a bucket per address).
fn client_network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
        },
        v4 => v4,
    }
}

impl RateLimiter {
    pub fn new(settings: &RateLimit) -> Self {
        RateLimiter {
            per_key: Buckets::new(settings.per_key_per_second, settings.per_key_burst),
            per_address: Buckets::new(settings.per_address_per_second, settings.per_address_burst),
        }
    }

    /// Counts `cost` requests (a batch's operations) against `client`; Err: refused, retry
    /// after the duration given.
    pub fn check(&self, client: Client<'_>, cost: u32) -> Result<(), Duration> {
        let now = Instant::now();
        match client {
            Client::Key(name) => match &self.per_key {
                Some(buckets) => buckets.take(&name.to_string(), cost, now),
                None => Ok(()),
            },
            Client::Address(Some(address)) => match &self.per_address {
                Some(buckets) => buckets.take(&client_network(address), cost, now),
                None => Ok(()),
            },
            Client::Address(None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_allow_a_burst_then_the_rate_and_name_the_wait() {
        let buckets = Buckets::new(10, 3).unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(buckets.take(&"a", 1, start).is_ok());
        }
        let wait = buckets.take(&"a", 1, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        // Another caller has its own bucket.
        assert!(buckets.take(&"b", 1, start).is_ok());
        // A tenth of a second refills one token.
        let later = start + Duration::from_millis(100);
        assert!(buckets.take(&"a", 1, later).is_ok());
        assert!(buckets.take(&"a", 1, later).is_err());
        // A batch costs its operations, and never more than a full bucket.
        let much_later = later + Duration::from_secs(60);
        assert!(buckets.take(&"a", 50, much_later).is_ok());
        assert!(Buckets::<u8>::new(0, 5).is_none());
    }

    #[test]
    fn idle_callers_are_forgotten_when_many() {
        let buckets = Buckets::new(1000, 1).unwrap();
        let start = Instant::now();
        for i in 0..SWEEP_AT as u32 {
            buckets.take(&i, 1, start).unwrap();
        }
        let later = start + Duration::from_secs(1);
        buckets.take(&u32::MAX, 1, later).unwrap();
        assert_eq!(buckets.callers.lock().unwrap().buckets.len(), 1);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_network(a), client_network(b));
        assert_ne!(client_network(a), client_network(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(client_network(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_network(mapped), v4);
    }
}
