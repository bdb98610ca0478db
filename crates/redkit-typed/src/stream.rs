//! [`TypedStream`]: a stream whose entries are serde structs, one entry field per struct field (JSON values).

use std::marker::PhantomData;

use bytes::Bytes;
use redkit::{Cmd, Executor};
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
        let mut cmd = Cmd::new("XADD").arg(&self.name).arg("*");
        for (field, bytes) in fields {
            cmd = cmd.arg(field).arg(bytes);
        }
        Ok(redis.query(cmd).await?)
    }

    /// Entries with ids from `start` to `end` (inclusive; `-` and `+` for the ends), at most `count`.
    pub async fn range<E: Executor>(
        &self,
        redis: &E,
        start: &str,
        end: &str,
        count: Option<usize>,
    ) -> Result<Vec<(String, S)>> {
        let mut cmd = Cmd::new("XRANGE").arg(&self.name).arg(start).arg(end);
        if let Some(n) = count {
            cmd = cmd.arg("COUNT").arg(n);
        }
        let entries: Vec<(String, Vec<(Bytes, Bytes)>)> = redis.query(cmd).await?;
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
        let n: i64 = redis.query(Cmd::new("XLEN").arg(&self.name)).await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
