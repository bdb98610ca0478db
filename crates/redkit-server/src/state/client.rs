//! What the server knows of each connection ([`ClientRecord`]), for CLIENT LIST, INFO and KILL.

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::tracking::TrackingMode;

/// What the server knows of one connection, for CLIENT LIST / INFO / KILL.
#[derive(Debug)]
pub(crate) struct ClientRecord {
    pub(crate) addr: String,
    pub(crate) laddr: String,
    pub(crate) created_ms: i64,
    pub(crate) last_ms: i64,
    pub(crate) last_cmd: &'static str,
    pub(crate) name: Option<Bytes>,
    pub(crate) db: usize,
    pub(crate) resp: RespVersion,
    pub(crate) multi: i64,
    pub(crate) subs: [usize; 3],
    pub(crate) blocked: bool,
    /// Tells the connection's task to close (CLIENT KILL).
    pub(crate) kill: Option<tokio::sync::oneshot::Sender<()>>,
    /// Where pushes for this client go (pub/sub messages, invalidations).
    pub(crate) mailbox: Option<tokio::sync::mpsc::UnboundedSender<Value>>,
    /// CLIENT TRACKING state, when on.
    pub(crate) tracking: Option<TrackingMode>,
}

impl ClientRecord {
    pub(crate) fn new(addr: String, laddr: String, now: i64) -> ClientRecord {
        ClientRecord {
            addr,
            laddr,
            created_ms: now,
            last_ms: now,
            last_cmd: "NULL",
            name: None,
            db: 0,
            resp: RespVersion::Resp2,
            multi: -1,
            subs: [0; 3],
            blocked: false,
            kill: None,
            mailbox: None,
            tracking: None,
        }
    }

    pub(crate) fn is_pubsub(&self) -> bool {
        self.subs.iter().sum::<usize>() > 0
    }

    /// One line of CLIENT LIST, in Redis's field order.
    pub(crate) fn line(&self, id: u64, now: i64) -> String {
        let mut flags = String::new();
        if self.is_pubsub() {
            flags.push('P');
        }
        if self.multi >= 0 {
            flags.push('x');
        }
        if self.blocked {
            flags.push('b');
        }
        if self.tracking.is_some() {
            flags.push('t');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let name = self
            .name
            .as_ref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let redir = self
            .tracking
            .as_ref()
            .and_then(|t| t.redirect)
            .map_or(-1, |r| i64::try_from(r).unwrap_or(-1));
        format!(
            "id={id} addr={} laddr={} fd=-1 name={name} age={} idle={} flags={flags} db={} sub={} psub={} ssub={} \
             multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r \
             cmd={} user=default redir={redir} resp={}\n",
            self.addr,
            self.laddr,
            (now - self.created_ms).max(0) / 1000,
            (now - self.last_ms).max(0) / 1000,
            self.db,
            self.subs[0],
            self.subs[1],
            self.subs[2],
            self.multi,
            self.last_cmd,
            if self.resp == RespVersion::Resp3 { 3 } else { 2 },
        )
    }
}

/// Every connected client, by id: what CLIENT LIST shows, CLIENT KILL reaches, and tracking and pub/sub deliver
/// to.
#[derive(Debug, Default)]
pub(crate) struct Clients {
    by_id: rustc_hash::FxHashMap<u64, ClientRecord>,
}

impl Clients {
    /// A client's record.
    pub(crate) fn get(&self, id: u64) -> Option<&ClientRecord> {
        self.by_id.get(&id)
    }

    /// A client's record, to change.
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut ClientRecord> {
        self.by_id.get_mut(&id)
    }

    /// `true` while client `id` is connected.
    pub(crate) fn contains(&self, id: u64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// A client connected (at its first command).
    pub(crate) fn register(&mut self, id: u64, record: ClientRecord) {
        self.by_id.insert(id, record);
    }

    /// A client disconnected: its record, if it was registered.
    pub(crate) fn remove(&mut self, id: u64) -> Option<ClientRecord> {
        self.by_id.remove(&id)
    }

    /// How many clients are connected (INFO's `connected_clients`).
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Every client, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&u64, &ClientRecord)> {
        self.by_id.iter()
    }

    /// A client's tracking mode, when it tracks.
    pub(crate) fn tracking(&self, id: u64) -> Option<&TrackingMode> {
        self.get(id).and_then(|r| r.tracking.as_ref())
    }

    /// A client's tracking mode, to change.
    pub(crate) fn tracking_mut(&mut self, id: u64) -> Option<&mut TrackingMode> {
        self.get_mut(id).and_then(|r| r.tracking.as_mut())
    }
}
