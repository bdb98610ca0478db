//! Typed Redis keys for redkit: the type of what a key holds is part of the key's type.
//!
//! - [`TypedKey<T, C>`](TypedKey): `set`, `set_ex(Duration)`, `get` → `Option<T>`, `get_del`, `del`, `exists`,
//!   `ttl`, `expire(Duration)`; a value that does not decode is [`Error::Decode`] naming the key and codec — never
//!   a panic, never a silent `None`. Setting a `TypedKey<String>` with an integer, or reading it as another type,
//!   does not compile.
//! - [`Codec`]s: [`Json`] (the default), [`MsgPack`], [`Raw`] bytes, UTF-8 [`Text`], and [`Int`], which stores
//!   Redis integer strings so INCR keeps working ([`TypedKey::incr_by`]).
//! - [`Namespace`]: `prefix:name` keys, nested with [`Namespace::child`], cleared with SCAN + UNLINK in batches.
//! - [`TypedHashField`], [`TypedHash`] (a serde struct as a hash, one field per struct field), [`TypedList`],
//!   [`TypedSet`], [`TypedSortedSet`], [`TypedStream`] (entries as serde structs).
//!
//! Everything takes an executor — the client, a pool, the embedded server — as its first argument.
//!
//! ```
//! use std::time::Duration;
//! use redkit_typed::{Int, Namespace, TypedKey};
//!
//! #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct User { name: String, age: u32 }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = redkit_server::Mock::new(); // or a redkit::Client, a pool…
//! let users = Namespace::new("app").child("users");
//! let ada = users.key::<User>("1");
//! ada.set_ex(&redis, &User { name: "Ada".into(), age: 36 }, Duration::from_secs(60)).await?;
//! assert_eq!(ada.get(&redis).await?, Some(User { name: "Ada".into(), age: 36 }));
//!
//! let visits: TypedKey<i64, Int> = users.key_with("visits");
//! assert_eq!(visits.incr_by(&redis, 5).await?, 5);
//! assert_eq!(users.clear(&redis).await?, 2);
//! # Ok(())
//! # }
//! ```

mod codec;
mod collections;
mod error;
mod fields;
mod hash;
mod key;
mod namespace;
mod stream;

pub use codec::{Codec, CodecError, Int, Json, MsgPack, Raw, Text};
pub use collections::{TypedList, TypedSet, TypedSortedSet};
pub use error::{Error, Result};
pub use hash::TypedHash;
pub use key::{TypedHashField, TypedKey};
pub use namespace::Namespace;
pub use stream::TypedStream;
