//! [`TypedList`], [`TypedSet`], [`TypedSortedSet`]: collections whose members are typed values.

use std::marker::PhantomData;

use bytes::Bytes;
use redkit::prelude::{KeyCommands, ListCommands, SetCommands, SortedSetCommands};
use redkit::{Executor, ZAddOptions, ZRangeOptions};

use crate::codec::{Codec, Json};
use crate::error::Result;
use crate::key::{decode, encode};

fn decode_all<T, C: Codec<T>>(name: &str, items: Vec<Bytes>) -> Result<Vec<T>> {
    items.iter().map(|b| decode::<T, C>(name, b)).collect()
}

macro_rules! collection {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T, C = Json> {
            name: String,
            _type: PhantomData<fn() -> (T, C)>,
        }

        impl<T, C> Clone for $name<T, C> {
            fn clone(&self) -> Self {
                $name {
                    name: self.name.clone(),
                    _type: PhantomData,
                }
            }
        }

        impl<T, C: Codec<T>> $name<T, C> {
            /// The collection at `name`.
            pub fn new(name: impl Into<String>) -> Self {
                $name {
                    name: name.into(),
                    _type: PhantomData,
                }
            }

            /// The key's name.
            pub fn name(&self) -> &str {
                &self.name
            }

            /// Remove the whole collection; `true` if it existed.
            pub async fn del<E: Executor>(&self, redis: &E) -> Result<bool> {
                let n = redis.del(&self.name).await?;
                Ok(n > 0)
            }
        }
    };
}

collection!(
    /// A list of `T`.
    TypedList
);
collection!(
    /// A set of `T` (members compare by their encoding).
    TypedSet
);
collection!(
    /// A sorted set of `T` with `f64` scores.
    TypedSortedSet
);

impl<T, C: Codec<T>> TypedList<T, C> {
    /// Append `value`; the new length.
    pub async fn push_back<E: Executor>(&self, redis: &E, value: &T) -> Result<usize> {
        let bytes = encode::<T, C>(&self.name, value)?;
        let n = redis.rpush(&self.name, bytes).await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Prepend `value`; the new length.
    pub async fn push_front<E: Executor>(&self, redis: &E, value: &T) -> Result<usize> {
        let bytes = encode::<T, C>(&self.name, value)?;
        let n = redis.lpush(&self.name, bytes).await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Remove and return the first value.
    pub async fn pop_front<E: Executor>(&self, redis: &E) -> Result<Option<T>> {
        let b: Option<Bytes> = redis.lpop(&self.name).await?;
        b.map(|b| decode::<T, C>(&self.name, &b)).transpose()
    }

    /// Remove and return the last value.
    pub async fn pop_back<E: Executor>(&self, redis: &E) -> Result<Option<T>> {
        let b: Option<Bytes> = redis.rpop(&self.name).await?;
        b.map(|b| decode::<T, C>(&self.name, &b)).transpose()
    }

    /// The values from `start` to `stop` inclusive (negative counts from the end), as LRANGE.
    pub async fn range<E: Executor>(&self, redis: &E, start: i64, stop: i64) -> Result<Vec<T>> {
        let items: Vec<Bytes> = redis.lrange(&self.name, start, stop).await?;
        decode_all::<T, C>(&self.name, items)
    }

    /// The number of values.
    pub async fn len<E: Executor>(&self, redis: &E) -> Result<usize> {
        let n = redis.llen(&self.name).await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

impl<T, C: Codec<T>> TypedSet<T, C> {
    /// Add `value`; `true` if it was not there.
    pub async fn add<E: Executor>(&self, redis: &E, value: &T) -> Result<bool> {
        let bytes = encode::<T, C>(&self.name, value)?;
        let n = redis.sadd(&self.name, bytes).await?;
        Ok(n > 0)
    }

    /// Remove `value`; `true` if it was there.
    pub async fn remove<E: Executor>(&self, redis: &E, value: &T) -> Result<bool> {
        let bytes = encode::<T, C>(&self.name, value)?;
        let n = redis.srem(&self.name, bytes).await?;
        Ok(n > 0)
    }

    /// `true` if `value` is a member.
    pub async fn contains<E: Executor>(&self, redis: &E, value: &T) -> Result<bool> {
        let bytes = encode::<T, C>(&self.name, value)?;
        Ok(redis.sismember(&self.name, bytes).await?)
    }

    /// Every member (in no particular order).
    pub async fn members<E: Executor>(&self, redis: &E) -> Result<Vec<T>> {
        let items: Vec<Bytes> = redis.smembers(&self.name).await?;
        decode_all::<T, C>(&self.name, items)
    }

    /// The number of members.
    pub async fn len<E: Executor>(&self, redis: &E) -> Result<usize> {
        let n = redis.scard(&self.name).await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

impl<T, C: Codec<T>> TypedSortedSet<T, C> {
    /// Add `value` with `score`, or update its score; `true` if it is new.
    pub async fn add<E: Executor>(&self, redis: &E, value: &T, score: f64) -> Result<bool> {
        let bytes = encode::<T, C>(&self.name, value)?;
        let n = redis.zadd(&self.name, ZAddOptions::new(), (score, bytes)).await?;
        Ok(n > 0)
    }

    /// `value`'s score, or `None`.
    pub async fn score<E: Executor>(&self, redis: &E, value: &T) -> Result<Option<f64>> {
        let bytes = encode::<T, C>(&self.name, value)?;
        Ok(redis.zscore(&self.name, bytes).await?)
    }

    /// `value`'s rank, lowest score first.
    pub async fn rank<E: Executor>(&self, redis: &E, value: &T) -> Result<Option<usize>> {
        let bytes = encode::<T, C>(&self.name, value)?;
        let r = redis.zrank(&self.name, bytes).await?;
        Ok(r.and_then(|r| usize::try_from(r).ok()))
    }

    /// Remove `value`; `true` if it was there.
    pub async fn remove<E: Executor>(&self, redis: &E, value: &T) -> Result<bool> {
        let bytes = encode::<T, C>(&self.name, value)?;
        let n = redis.zrem(&self.name, bytes).await?;
        Ok(n > 0)
    }

    /// Members and scores by rank, `start` to `stop` inclusive (negative counts from the end).
    pub async fn range_with_scores<E: Executor>(
        &self,
        redis: &E,
        start: i64,
        stop: i64,
    ) -> Result<Vec<(T, f64)>> {
        let items: Vec<(Bytes, f64)> = redis
            .zrange_with_scores(&self.name, ZRangeOptions::rank(start, stop))
            .await?;
        items
            .into_iter()
            .map(|(b, s)| Ok((decode::<T, C>(&self.name, &b)?, s)))
            .collect()
    }

    /// The number of members.
    pub async fn len<E: Executor>(&self, redis: &E) -> Result<usize> {
        let n = redis.zcard(&self.name).await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
