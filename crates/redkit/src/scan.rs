//! SCAN, SSCAN, HSCAN and ZSCAN as async streams that follow the cursor to the end.
//!
//! The SCAN guarantees apply: every element present for the whole scan is returned at least once; elements added
//! or removed meanwhile may or may not be; an element may be returned more than once.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use redkit_resp::{Cmd, Executor, FromValue, Result, ToArg};

use crate::BoxFuture;
use crate::commands::options::{ScanOptions, ScanPage};

/// A stream of the items of a SCAN-family command. Created by [`scan_all`], [`sscan_all`], [`hscan_all`] and
/// [`zscan_all`].
pub struct ScanStream<'a, T> {
    fetch: Box<dyn FnMut(u64) -> BoxFuture<'a, Result<ScanPage<T>>> + Send + 'a>,
    /// The next cursor; `None` once the server returned cursor 0 (or an error).
    cursor: Option<u64>,
    buffer: VecDeque<T>,
    in_flight: Option<BoxFuture<'a, Result<ScanPage<T>>>>,
}

impl<T> std::fmt::Debug for ScanStream<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanStream")
            .field("cursor", &self.cursor)
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl<T> Unpin for ScanStream<'_, T> {}

impl<'a, T: FromValue + Send + 'a> ScanStream<'a, T> {
    fn new<E: Executor + ?Sized>(executor: &'a E, base: Cmd, options: ScanOptions) -> Self {
        let fetch = move |cursor: u64| -> BoxFuture<'a, Result<ScanPage<T>>> {
            let cmd = base.clone().arg(cursor).arg(&options);
            Box::pin(executor.query(cmd))
        };
        ScanStream {
            fetch: Box::new(fetch),
            cursor: Some(0),
            buffer: VecDeque::new(),
            in_flight: None,
        }
    }
}

impl<T> Stream for ScanStream<'_, T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if this.in_flight.is_none() {
                let Some(cursor) = this.cursor else {
                    return Poll::Ready(None);
                };
                this.in_flight = Some((this.fetch)(cursor));
            }
            let Some(fut) = this.in_flight.as_mut() else {
                return Poll::Ready(None);
            };
            match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => {
                    this.in_flight = None;
                    match result {
                        Ok(page) => {
                            this.cursor = (page.cursor != 0).then_some(page.cursor);
                            this.buffer.extend(page.items);
                        }
                        Err(e) => {
                            this.cursor = None;
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
            }
        }
    }
}

/// Every key matching `options`, page by page (SCAN).
pub fn scan_all<'a, T, E>(executor: &'a E, options: ScanOptions) -> ScanStream<'a, T>
where
    T: FromValue + Send + 'a,
    E: Executor + ?Sized,
{
    ScanStream::new(executor, Cmd::new("SCAN"), options)
}

/// Every member of the set at `key` (SSCAN).
pub fn sscan_all<'a, T, E>(executor: &'a E, key: impl ToArg, options: ScanOptions) -> ScanStream<'a, T>
where
    T: FromValue + Send + 'a,
    E: Executor + ?Sized,
{
    ScanStream::new(executor, Cmd::new("SSCAN").arg(key), options)
}

/// Every `(field, value)` of the hash at `key` (HSCAN).
pub fn hscan_all<'a, F, V, E>(
    executor: &'a E,
    key: impl ToArg,
    options: ScanOptions,
) -> ScanStream<'a, (F, V)>
where
    F: FromValue + Send + 'a,
    V: FromValue + Send + 'a,
    E: Executor + ?Sized,
{
    ScanStream::new(executor, Cmd::new("HSCAN").arg(key), options)
}

/// Every `(member, score)` of the sorted set at `key` (ZSCAN).
pub fn zscan_all<'a, T, E>(executor: &'a E, key: impl ToArg, options: ScanOptions) -> ScanStream<'a, (T, f64)>
where
    T: FromValue + Send + 'a,
    E: Executor + ?Sized,
{
    ScanStream::new(executor, Cmd::new("ZSCAN").arg(key), options)
}

/// Collect a scan into a `Vec` (convenience for tests and small sets).
pub async fn collect_scan<T>(mut stream: ScanStream<'_, T>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    while let Some(item) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        out.push(item?);
    }
    Ok(out)
}

/// Keys as raw bytes, the safe default for `scan_all`.
pub type RawKey = Bytes;
