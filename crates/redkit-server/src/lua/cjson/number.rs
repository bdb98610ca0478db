//! `strtod` in the C locale, as Lua CJSON's decoder calls it: the numbers it reads, including the forms JSON
//! does not have (hexadecimal, `inf`, `nan`) that `decode_invalid_numbers` lets through.

/// `strtod` in the C locale: the length of the longest number at the start of `s`, and its value.
pub(super) fn strtod(s: &[u8]) -> Option<(usize, f64)> {
    let mut i = 0;
    let negative = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let lower: Vec<u8> = rest.iter().take(8).map(u8::to_ascii_lowercase).collect();
    let sign = |v: f64| if negative { -v } else { v };
    if lower.starts_with(b"infinity") {
        return Some((i + 8, sign(f64::INFINITY)));
    }
    if lower.starts_with(b"inf") {
        return Some((i + 3, sign(f64::INFINITY)));
    }
    if lower.starts_with(b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let mut j = end + 1;
            while s.get(j).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                j += 1;
            }
            if s.get(j) == Some(&b')') {
                end = j + 1;
            }
        }
        return Some((end, sign(f64::NAN)));
    }
    if rest.len() > 2
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && (rest[2].is_ascii_hexdigit()
            || (rest[2] == b'.' && rest.get(3).is_some_and(u8::is_ascii_hexdigit)))
    {
        let mut j = 2;
        let mut value = 0f64;
        while let Some(d) = rest.get(j).and_then(|c| (*c as char).to_digit(16)) {
            value = value * 16.0 + f64::from(d);
            j += 1;
        }
        if rest.get(j) == Some(&b'.') {
            j += 1;
            let mut scale = 1.0 / 16.0;
            while let Some(d) = rest.get(j).and_then(|c| (*c as char).to_digit(16)) {
                value += f64::from(d) * scale;
                scale /= 16.0;
                j += 1;
            }
        }
        if rest.get(j).is_some_and(|c| (c | 0x20) == b'p') {
            let mut k = j + 1;
            let exp_negative = match rest.get(k) {
                Some(b'-') => {
                    k += 1;
                    true
                }
                Some(b'+') => {
                    k += 1;
                    false
                }
                _ => false,
            };
            let digits = k;
            let mut exp: i32 = 0;
            while let Some(d) = rest.get(k).filter(|c| c.is_ascii_digit()) {
                exp = exp.saturating_mul(10).saturating_add(i32::from(d - b'0'));
                k += 1;
            }
            if k > digits {
                value *= 2f64.powi(if exp_negative { -exp } else { exp });
                j = k;
            }
        }
        return Some((i + j, sign(value)));
    }
    let mut j = 0;
    let mut digits = 0;
    while rest.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
        digits += 1;
    }
    if rest.get(j) == Some(&b'.') {
        j += 1;
        while rest.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if rest.get(j).is_some_and(|c| (c | 0x20) == b'e') {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        if rest.get(k).is_some_and(u8::is_ascii_digit) {
            while rest.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[..i + j]).ok()?;
    let text = text.strip_prefix('+').unwrap_or(text);
    text.parse::<f64>().ok().map(|v| (i + j, v))
}
