//! The server's start-up settings ([`ServerConfig`]); CONFIG SET changes them at run time.

/// Settings of the embedded server. Each can also be changed at run time with CONFIG SET under its Redis name.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `requirepass`: the default user's password.
    pub requirepass: Option<String>,
    /// `maxclients`: connections past this many are refused with `ERR max number of clients reached` (10000).
    pub maxclients: u64,
    /// `timeout`: idle clients are closed after this long; `None` (Redis's `0`, the default) never.
    pub timeout: Option<std::time::Duration>,
    /// `protected-mode`: without a password, only loopback peers may connect (on by default, as in Redis).
    pub protected_mode: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            requirepass: None,
            maxclients: crate::limits::DEFAULT_MAXCLIENTS,
            timeout: None,
            protected_mode: true,
        }
    }
}

impl ServerConfig {
    /// The default configuration with `requirepass` set.
    pub fn with_password(password: impl Into<String>) -> ServerConfig {
        ServerConfig {
            requirepass: Some(password.into()),
            ..ServerConfig::default()
        }
    }
}
