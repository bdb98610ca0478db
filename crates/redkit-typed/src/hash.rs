//! [`TypedHash`]: a serde struct stored as a hash, one field per struct field.

use std::marker::PhantomData;

use bytes::Bytes;
use redkit::prelude::{ConnectionCommands, HashCommands, KeyCommands};
use redkit::{Executor, TypedPipeline, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::fields::{from_fields, to_fields};

/// A struct `S` stored as a hash: each field of `S` is a hash field holding its value as JSON (so strings and
/// numbers round-trip exactly, and `HINCRBY` works on integer fields).
#[derive(Debug)]
pub struct TypedHash<S> {
    name: String,
    _type: PhantomData<fn() -> S>,
}

impl<S> Clone for TypedHash<S> {
    fn clone(&self) -> Self {
        TypedHash::new(self.name.clone())
    }
}

impl<S> TypedHash<S> {
    /// The hash at `name`.
    pub fn new(name: impl Into<String>) -> TypedHash<S> {
        TypedHash {
            name: name.into(),
            _type: PhantomData,
        }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<S: Serialize + DeserializeOwned> TypedHash<S> {
    /// Store `value`, replacing the whole hash atomically (MULTI/DEL/HSET/EXEC: fields of an older shape do not
    /// linger, and no reader sees half a struct).
    pub async fn set<E: Executor>(&self, redis: &E, value: &S) -> Result<()> {
        let fields = to_fields(&self.name, value)?;
        // MULTI and EXEC are queued as commands of a plain pipeline (not `TypedPipeline::atomic`), so every
        // reply comes back as is and a failed transaction is reported below, as such.
        let pipeline = TypedPipeline::new();
        pipeline.multi().del(&self.name);
        if !fields.is_empty() {
            pipeline.hset(&self.name, fields);
        }
        pipeline.exec();
        let replies = pipeline.execute(redis).await?;
        match replies.last() {
            Some(Value::Array(results)) => {
                if let Some(Value::Error(e)) = results.iter().find(|r| matches!(r, Value::Error(_))) {
                    return Err(Error::Invalid(format!(
                        "{}: storing the hash failed: {}",
                        self.name,
                        String::from_utf8_lossy(e)
                    )));
                }
                Ok(())
            }
            other => Err(Error::Invalid(format!(
                "{}: the transaction storing the hash did not run ({other:?})",
                self.name
            ))),
        }
    }

    /// The struct, or `None` when the hash does not exist.
    pub async fn get<E: Executor>(&self, redis: &E) -> Result<Option<S>> {
        let pairs: Vec<(Bytes, Bytes)> = redis.hgetall(&self.name).await?;
        if pairs.is_empty() {
            return Ok(None);
        }
        let fields = pairs
            .into_iter()
            .map(|(f, v)| (String::from_utf8_lossy(&f).into_owned(), v.to_vec()));
        from_fields(&self.name, fields).map(Some)
    }

    /// One field's value, decoded as `V`.
    pub async fn get_field<V: DeserializeOwned, E: Executor>(
        &self,
        redis: &E,
        field: &str,
    ) -> Result<Option<V>> {
        let bytes: Option<Bytes> = redis.hget(&self.name, field).await?;
        bytes
            .map(|b| {
                serde_json::from_slice(&b).map_err(|e| Error::Decode {
                    key: format!("{}#{field}", self.name),
                    codec: "json fields",
                    source: crate::codec::CodecError(e.to_string()),
                })
            })
            .transpose()
    }

    /// Set one field to `value`.
    pub async fn set_field<V: Serialize, E: Executor>(
        &self,
        redis: &E,
        field: &str,
        value: &V,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(|e| Error::Encode {
            key: format!("{}#{field}", self.name),
            codec: "json fields",
            source: crate::codec::CodecError(e.to_string()),
        })?;
        redis.hset(&self.name, (field, bytes)).await?;
        Ok(())
    }

    /// Add `by` to an integer field (HINCRBY); the new value.
    pub async fn incr_field<E: Executor>(&self, redis: &E, field: &str, by: i64) -> Result<i64> {
        Ok(redis.hincr_by(&self.name, field, by).await?)
    }

    /// Remove the hash; `true` if it existed.
    pub async fn del<E: Executor>(&self, redis: &E) -> Result<bool> {
        let n = redis.del(&self.name).await?;
        Ok(n > 0)
    }
}
