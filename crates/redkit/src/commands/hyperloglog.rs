//! HyperLogLog: approximate distinct counts.

use redkit_resp::{Cmd, ToArg};

use super::commands;

commands! {
    /// HyperLogLog commands.
    pub trait HyperLogLogCommands {
        /// PFADD: add elements; `true` if the estimate changed.
        fn pfadd(key: impl ToArg, elements: impl ToArg) -> bool { Cmd::new("PFADD").arg(key).arg(elements) }
        /// PFCOUNT: the estimated number of distinct elements (of the union, for several keys).
        fn pfcount(keys: impl ToArg) -> i64 { Cmd::new("PFCOUNT").arg(keys) }
        /// PFMERGE: merge sources into `dest`.
        fn pfmerge(dest: impl ToArg, sources: impl ToArg) -> () { Cmd::new("PFMERGE").arg(dest).arg(sources) }
    }
}
