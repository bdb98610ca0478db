//! Small parsing helpers the stream, sorted-set and geo argument structs share (the cursor itself is `args.rs`'s).

use bytes::Bytes;

use super::args::Args;

/// The next `N` words (`N` ≥ 1), taken only if all of them are there: an option's values (`LIMIT offset count`,
/// `BYBOX width height unit`). `None`, the cursor unmoved, when there are fewer.
pub(super) fn take<'a, const N: usize>(args: &mut Args<'a>) -> Option<[&'a Bytes; N]> {
    let mut ahead = *args;
    let mut words = [ahead.peek()?; N];
    for word in &mut words {
        *word = ahead.next()?;
    }
    *args = ahead;
    Some(words)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn takes_all_the_words_or_none() {
        let argv: Vec<Bytes> = ["ZRANGE", "LIMIT", "1", "2"].map(Bytes::from).to_vec();
        let mut args = Args::at(&argv, 2);
        assert!(take::<3>(&mut args).is_none());
        let [offset, count] = take(&mut args).unwrap();
        assert_eq!((offset.as_ref(), count.as_ref()), (&b"1"[..], &b"2"[..]));
        assert!(take::<1>(&mut args).is_none() && args.next().is_none());
    }
}
