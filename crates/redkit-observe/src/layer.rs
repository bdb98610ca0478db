//! [`Instrumented`]: the layer. It wraps any [`Executor`] and records every command and pipeline that passes
//! through into [`Metrics`], and, when given a tracer, into an OpenTelemetry span following the database
//! semantic conventions.

use std::time::Instant;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, SpanKind, Status, Tracer};
use redkit_resp::{Cmd, Error, Executor, Pipeline, Result, Value};

use crate::metrics::{Metrics, error_class, reply_size};

/// Where the server is, for span attributes (`server.address`, `server.port`, `db.namespace`).
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Host name or address.
    pub address: String,
    /// TCP port.
    pub port: u16,
    /// Database index.
    pub db: i64,
}

/// OpenTelemetry settings of the layer.
#[derive(Debug, Clone)]
struct Tracing<T> {
    tracer: T,
    target: Target,
    /// Put `db.query.text` on spans (arguments replaced by `?`).
    query_text: bool,
    duration: Option<opentelemetry::metrics::Histogram<f64>>,
}

/// An executor that records what passes through it. Use it wherever the inner executor would go; it is an
/// [`Executor`] itself, so typed commands, pipelines, caches and typed keys all work on it.
#[derive(Debug, Clone)]
pub struct Instrumented<E, T = opentelemetry::trace::noop::NoopTracer> {
    inner: E,
    metrics: Metrics,
    tracing: Option<Tracing<T>>,
}

impl<E: Executor> Instrumented<E> {
    /// Record `inner`'s commands into `metrics` (no tracing).
    pub fn new(inner: E, metrics: Metrics) -> Instrumented<E> {
        Instrumented {
            inner,
            metrics,
            tracing: None,
        }
    }
}

impl<E: Executor, T> Instrumented<E, T> {
    /// Also open a span per command and per pipeline with `tracer`, describing `target`.
    pub fn with_tracer<U: Tracer>(self, tracer: U, target: Target) -> Instrumented<E, U> {
        Instrumented {
            inner: self.inner,
            metrics: self.metrics,
            tracing: Some(Tracing {
                tracer,
                target,
                query_text: false,
                duration: None,
            }),
        }
    }

    /// Put `db.query.text` on spans, with every argument replaced by `?` (keys and values never leave).
    pub fn with_query_text(mut self) -> Self {
        if let Some(t) = &mut self.tracing {
            t.query_text = true;
        }
        self
    }

    /// Also record `db.client.operation.duration` (seconds) with `meter`.
    pub fn with_meter(mut self, meter: &opentelemetry::metrics::Meter) -> Self {
        if let Some(t) = &mut self.tracing {
            t.duration = Some(
                meter
                    .f64_histogram("db.client.operation.duration")
                    .with_unit("s")
                    .with_description("Duration of database client operations.")
                    .build(),
            );
        }
        self
    }

    /// The figures this layer records into.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The wrapped executor.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

/// A command's name in upper case, kept on the stack when short (every Redis command name is).
struct OpName {
    buf: [u8; 32],
    len: usize,
    long: Option<String>,
}

impl OpName {
    fn of(cmd: &Cmd) -> OpName {
        let name = cmd.name_bytes();
        let mut op = OpName {
            buf: [0; 32],
            len: 0,
            long: None,
        };
        match std::str::from_utf8(name) {
            Ok(text) if name.len() <= op.buf.len() => {
                op.buf[..name.len()].copy_from_slice(text.as_bytes());
                op.buf[..name.len()].make_ascii_uppercase();
                op.len = name.len();
            }
            _ => op.long = Some(String::from_utf8_lossy(name).to_ascii_uppercase()),
        }
        op
    }

    fn as_str(&self) -> &str {
        match &self.long {
            Some(s) => s,
            // Upper-casing ASCII bytes of valid UTF-8 keeps it valid.
            None => std::str::from_utf8(&self.buf[..self.len]).unwrap_or("?"),
        }
    }
}

/// The first key of a command, for the slow log: its first 128 bytes, on the stack.
struct KeySample {
    buf: [u8; 128],
    len: usize,
}

impl KeySample {
    fn of(cmd: &Cmd) -> Option<KeySample> {
        let key = cmd.args().nth(1)?;
        let mut s = KeySample {
            buf: [0; 128],
            len: key.len().min(128),
        };
        s.buf[..s.len].copy_from_slice(&key[..s.len]);
        Some(s)
    }
}

fn redacted_text(cmd: &Cmd) -> String {
    let mut text = String::from_utf8_lossy(cmd.name_bytes()).to_ascii_uppercase();
    for _ in cmd.args().skip(1) {
        text.push_str(" ?");
    }
    text
}

impl<T: Tracer> Tracing<T>
where
    T::Span: Send + Sync + 'static,
{
    fn start(&self, name: &str, batch: Option<usize>, text: Option<String>) -> T::Span {
        let mut attributes = vec![
            KeyValue::new("db.system.name", "redis"),
            KeyValue::new("db.operation.name", name.to_owned()),
            KeyValue::new("db.namespace", self.target.db.to_string()),
            KeyValue::new("server.address", self.target.address.clone()),
            KeyValue::new("server.port", i64::from(self.target.port)),
        ];
        if let Some(n) = batch {
            attributes.push(KeyValue::new("db.operation.batch.size", n as i64));
        }
        if let Some(text) = text {
            attributes.push(KeyValue::new("db.query.text", text));
        }
        self.tracer
            .span_builder(name.to_owned())
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start(&self.tracer)
    }

    fn end(&self, mut span: T::Span, name: &str, took: std::time::Duration, error: Option<&Error>) {
        if let Some(e) = error {
            let class = error_class(e);
            span.set_attribute(KeyValue::new("error.type", class.clone()));
            if let Error::Server { error, .. } = e {
                span.set_attribute(KeyValue::new("db.response.status_code", error.code().to_owned()));
            }
            span.set_status(Status::error(e.to_string()));
        }
        span.end();
        if let Some(h) = &self.duration {
            let mut attrs = vec![
                KeyValue::new("db.system.name", "redis"),
                KeyValue::new("db.operation.name", name.to_owned()),
            ];
            if let Some(e) = error {
                attrs.push(KeyValue::new("error.type", error_class(e)));
            }
            h.record(took.as_secs_f64(), &attrs);
        }
    }
}

impl<E, T> Executor for Instrumented<E, T>
where
    E: Executor,
    T: Tracer + Send + Sync,
    T::Span: Send + Sync + 'static,
{
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        let op = OpName::of(&cmd);
        let name = op.as_str();
        let key = KeySample::of(&cmd);
        let span = self.tracing.as_ref().map(|t| {
            let text = t.query_text.then(|| redacted_text(&cmd));
            t.start(name, None, text)
        });
        self.metrics.started(cmd.encoded_len());
        let started = Instant::now();
        let result = self.inner.execute(cmd).await;
        let took = started.elapsed();
        let outcome = result.as_ref().map(reply_size);
        self.metrics
            .finished(name, key.as_ref().map(|k| &k.buf[..k.len]), took, outcome);
        if let (Some(t), Some(span)) = (&self.tracing, span) {
            t.end(span, name, took, result.as_ref().err());
        }
        result
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        let n = pipeline.len();
        let span = self.tracing.as_ref().map(|t| {
            let text = t.query_text.then(|| {
                pipeline
                    .cmds()
                    .iter()
                    .map(redacted_text)
                    .collect::<Vec<_>>()
                    .join("; ")
            });
            t.start("PIPELINE", Some(n), text)
        });
        self.metrics.started(pipeline.encoded_len());
        let started = Instant::now();
        let result = self.inner.execute_pipeline(pipeline).await;
        let took = started.elapsed();
        let outcome = result
            .as_ref()
            .map(|replies| replies.iter().map(reply_size).sum::<usize>());
        self.metrics.finished("PIPELINE", None, took, outcome);
        if let (Some(t), Some(span)) = (&self.tracing, span) {
            t.end(span, "PIPELINE", took, result.as_ref().err());
        }
        result
    }
}
