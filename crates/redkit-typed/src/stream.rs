//! [`TypedStream`]: a stream whose entries are serde structs, one entry field per struct field (JSON values).

use std::marker::PhantomData;

use bytes::Bytes;
use redkit::prelude::StreamCommands;
use redkit::{ConversionError, Executor, Value, XAddOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Result;
use crate::fields::{from_fields, to_fields};

/// A stream of `S` entries.
#[derive(Debug)]
pub struct TypedStream<S> {
    name: String,
    _type: PhantomData<fn() -> S>,
}

impl<S> Clone for TypedStream<S> {
    fn clone(&self) -> Self {
        TypedStream::new(self.name.clone())
    }
}

impl<S> TypedStream<S> {
    /// The stream at `name`.
    pub fn new(name: impl Into<String>) -> TypedStream<S> {
        TypedStream {
            name: name.into(),
            _type: PhantomData,
        }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<S: Serialize + DeserializeOwned> TypedStream<S> {
    /// Append `entry` with a server-chosen id; the id.
    pub async fn add<E: Executor>(&self, redis: &E, entry: &S) -> Result<String> {
        let fields = to_fields(&self.name, entry)?;
        match redis.xadd(&self.name, XAddOptions::new(), fields).await? {
            Some(id) => Ok(id.to_string()),
            // Only NOMKSTREAM, which is not sent, makes XADD answer null: fail as reading the id as a string does.
            None => Err(
                redkit::Error::from(ConversionError::unexpected("a string", &Value::Null))
                    .with_command("XADD")
                    .into(),
            ),
        }
    }

    /// Entries with ids from `start` to `end` (inclusive; `-` and `+` for the ends), at most `count`.
    pub async fn range<E: Executor>(
        &self,
        redis: &E,
        start: &str,
        end: &str,
        count: Option<usize>,
    ) -> Result<Vec<(String, S)>> {
        let count = count.map(|n| u64::try_from(n).unwrap_or(u64::MAX));
        // Field names as bytes (not a `StreamEntry`'s `String`s), so names that are not UTF-8 read lossily.
        let entries: Vec<(String, Vec<(Bytes, Bytes)>)> =
            redis.xrange_as(&self.name, start, end, count).await?;
        entries
            .into_iter()
            .map(|(id, fields)| {
                let key = format!("{}@{id}", self.name);
                let fields = fields
                    .into_iter()
                    .map(|(f, v)| (String::from_utf8_lossy(&f).into_owned(), v.to_vec()));
                Ok((id, from_fields(&key, fields)?))
            })
            .collect()
    }

    /// The number of entries.
    pub async fn len<E: Executor>(&self, redis: &E) -> Result<usize> {
        let n = redis.xlen(&self.name).await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
