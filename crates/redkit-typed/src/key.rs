//! [`TypedKey`] and [`TypedHashField`]: one value of one type at one place.

use std::marker::PhantomData;
use std::time::Duration;

use bytes::Bytes;
use redkit::prelude::{HashCommands, KeyCommands, StringCommands};
use redkit::{Executor, ExpireCondition, SetOptions, Ttl};

use crate::codec::{Codec, Int, Json};
use crate::error::{Error, Result};

/// Encode `value` for `key` with codec `C`.
pub(crate) fn encode<T, C: Codec<T>>(key: &str, value: &T) -> Result<Vec<u8>> {
    C::encode(value).map_err(|source| Error::Encode {
        key: key.to_owned(),
        codec: C::NAME,
        source,
    })
}

/// Decode what `key` holds with codec `C`.
pub(crate) fn decode<T, C: Codec<T>>(key: &str, bytes: &[u8]) -> Result<T> {
    C::decode(bytes).map_err(|source| Error::Decode {
        key: key.to_owned(),
        codec: C::NAME,
        source,
    })
}

/// Milliseconds of a TTL, refusing zero (Redis would refuse it too, with a less helpful message).
pub(crate) fn ttl_millis(ttl: Duration) -> Result<u64> {
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Err(Error::Invalid(format!(
            "a TTL must be at least 1 ms (got {ttl:?})"
        )));
    }
    Ok(ms)
}

/// A string key holding one `T`, stored with codec `C` (JSON unless said otherwise). The type is part of the
/// key's type: setting it with another type, or reading it as another type, does not compile.
#[derive(Debug)]
pub struct TypedKey<T, C = Json> {
    name: String,
    _type: PhantomData<fn() -> (T, C)>,
}

impl<T, C> Clone for TypedKey<T, C> {
    fn clone(&self) -> Self {
        TypedKey {
            name: self.name.clone(),
            _type: PhantomData,
        }
    }
}

impl<T, C: Codec<T>> TypedKey<T, C> {
    /// The key called `name`.
    pub fn new(name: impl Into<String>) -> TypedKey<T, C> {
        TypedKey {
            name: name.into(),
            _type: PhantomData,
        }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Store `value` (any expiry is dropped, as SET does).
    pub async fn set<E: Executor>(&self, redis: &E, value: &T) -> Result<()> {
        let bytes = encode::<T, C>(&self.name, value)?;
        redis.set(&self.name, bytes).await?;
        Ok(())
    }

    /// Store `value` to expire after `ttl` (at least 1 ms).
    pub async fn set_ex<E: Executor>(&self, redis: &E, value: &T, ttl: Duration) -> Result<()> {
        // Whole milliseconds, as validated: `SET … PX ms`.
        let ttl = Duration::from_millis(ttl_millis(ttl)?);
        let bytes = encode::<T, C>(&self.name, value)?;
        redis
            .set_with(&self.name, bytes, SetOptions::new().ttl(ttl))
            .await?;
        Ok(())
    }

    /// Store `value` only if the key does not exist; `true` if it was stored.
    pub async fn set_nx<E: Executor>(&self, redis: &E, value: &T) -> Result<bool> {
        let bytes = encode::<T, C>(&self.name, value)?;
        Ok(redis.set_with(&self.name, bytes, SetOptions::new().nx()).await?)
    }

    /// The value, or `None` when the key does not exist. A value that does not decode is [`Error::Decode`].
    pub async fn get<E: Executor>(&self, redis: &E) -> Result<Option<T>> {
        let bytes: Option<Bytes> = redis.get(&self.name).await?;
        bytes.map(|b| decode::<T, C>(&self.name, &b)).transpose()
    }

    /// The value, removing the key.
    pub async fn get_del<E: Executor>(&self, redis: &E) -> Result<Option<T>> {
        let bytes: Option<Bytes> = redis.getdel(&self.name).await?;
        bytes.map(|b| decode::<T, C>(&self.name, &b)).transpose()
    }

    /// Remove the key; `true` if it existed.
    pub async fn del<E: Executor>(&self, redis: &E) -> Result<bool> {
        let n = redis.del(&self.name).await?;
        Ok(n > 0)
    }

    /// `true` if the key exists.
    pub async fn exists<E: Executor>(&self, redis: &E) -> Result<bool> {
        let n = redis.exists(&self.name).await?;
        Ok(n > 0)
    }

    /// How long the key lives: missing, no expiry, or a duration.
    pub async fn ttl<E: Executor>(&self, redis: &E) -> Result<Ttl> {
        Ok(redis.pttl(&self.name).await?)
    }

    /// Expire the key after `ttl` (at least 1 ms); `false` if it does not exist.
    pub async fn expire<E: Executor>(&self, redis: &E, ttl: Duration) -> Result<bool> {
        // Whole milliseconds, as validated: `PEXPIRE key ms`.
        let ttl = Duration::from_millis(ttl_millis(ttl)?);
        Ok(redis.pexpire(&self.name, ttl, ExpireCondition::Always).await?)
    }
}

macro_rules! counters {
    ($($t:ty),*) => {$(
        impl TypedKey<$t, Int> {
            /// Add `by` atomically (INCRBY); the new value.
            pub async fn incr_by<E: Executor>(&self, redis: &E, by: i64) -> Result<$t> {
                let n = redis.incr_by(&self.name, by).await?;
                <$t>::try_from(n).map_err(|_| Error::Decode {
                    key: self.name.clone(),
                    codec: "int",
                    source: crate::codec::CodecError(format!("{n} is out of range for {}", stringify!($t))),
                })
            }
        }
    )*};
}

counters!(i64, i32, u32, u64);

/// One field of a hash, holding one `T` stored with codec `C`.
#[derive(Debug)]
pub struct TypedHashField<T, C = Json> {
    key: String,
    field: String,
    _type: PhantomData<fn() -> (T, C)>,
}

impl<T, C> Clone for TypedHashField<T, C> {
    fn clone(&self) -> Self {
        TypedHashField {
            key: self.key.clone(),
            field: self.field.clone(),
            _type: PhantomData,
        }
    }
}

impl<T, C: Codec<T>> TypedHashField<T, C> {
    /// Field `field` of the hash at `key`.
    pub fn new(key: impl Into<String>, field: impl Into<String>) -> TypedHashField<T, C> {
        TypedHashField {
            key: key.into(),
            field: field.into(),
            _type: PhantomData,
        }
    }

    fn what(&self) -> String {
        format!("{}#{}", self.key, self.field)
    }

    /// Store `value` in the field.
    pub async fn set<E: Executor>(&self, redis: &E, value: &T) -> Result<()> {
        let bytes = encode::<T, C>(&self.what(), value)?;
        redis.hset(&self.key, (&self.field, bytes)).await?;
        Ok(())
    }

    /// The field's value, or `None`.
    pub async fn get<E: Executor>(&self, redis: &E) -> Result<Option<T>> {
        let bytes: Option<Bytes> = redis.hget(&self.key, &self.field).await?;
        bytes.map(|b| decode::<T, C>(&self.what(), &b)).transpose()
    }

    /// Remove the field; `true` if it existed.
    pub async fn del<E: Executor>(&self, redis: &E) -> Result<bool> {
        let n = redis.hdel(&self.key, &self.field).await?;
        Ok(n > 0)
    }

    /// `true` if the field exists.
    pub async fn exists<E: Executor>(&self, redis: &E) -> Result<bool> {
        Ok(redis.hexists(&self.key, &self.field).await?)
    }
}
