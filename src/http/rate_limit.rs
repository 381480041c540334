//! Rate limits: a token bucket per API key and per client address. A caller may make
//! `per_second` requests a second on average and `burst` at once; past that it is told when
//! to come back (`429` with `Retry-After`).

use crate::config::RateLimit;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Callers remembered before full buckets (callers idle long enough) are forgotten.
const SWEEP_AT: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

struct Buckets<K> {
    per_second: f64,
    burst: f64,
    callers: Mutex<HashMap<K, Bucket>>,
}

impl<K: Eq + Hash + Clone> Buckets<K> {
    fn new(per_second: u32, burst: u32) -> Option<Self> {
        (per_second > 0).then(|| Buckets {
            per_second: per_second as f64,
            burst: burst.max(1) as f64,
            callers: Mutex::new(HashMap::new()),
        })
    }

    /// Takes `cost` tokens from `caller`'s bucket, or says how long until it holds them.
    fn take(&self, caller: &K, cost: u32, now: Instant) -> Result<(), Duration> {
        let cost = (cost as f64).min(self.burst);
        let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        if callers.len() >= SWEEP_AT {
            let (per_second, burst) = (self.per_second, self.burst);
            callers.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst
            });
        }
        let bucket = callers.entry(caller.clone()).or_insert(Bucket {
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
                Some(buckets) => buckets.take(&address, cost, now),
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
        assert_eq!(buckets.callers.lock().unwrap().len(), 1);
    }
}
