//! The tokenizer of `cjson.decode` (`json_next_token` in C): tokens with their positions, the error texts of
//! C's tokens, and the nesting depth the parser in `decode.rs` keeps.

use super::config::Config;
use super::number::strtod;
use crate::lua::support::{NESTING_CAP, Raise};

/// What a token is (`json_token_type_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error => "T_ERROR",
        }
    }
}

/// A token: its kind, where it starts, and its value.
pub(super) struct Token {
    pub(super) kind: Kind,
    index: usize,
    pub(super) text: Vec<u8>,
    pub(super) number: f64,
    pub(super) boolean: bool,
    error: &'static str,
}

/// The decoder's position in its input, and how deep it is nested.
pub(super) struct Parser<'a> {
    data: &'a [u8],
    ptr: usize,
    cfg: &'a Config,
    /// Containers open at the position.
    pub(super) depth: i64,
}

impl<'a> Parser<'a> {
    /// At the start of `data`, decoding with the settings `cfg`.
    pub(super) fn new(data: &'a [u8], cfg: &'a Config) -> Parser<'a> {
        Parser {
            data,
            ptr: 0,
            cfg,
            depth: 0,
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            text: Vec::new(),
            number: 0.0,
            boolean: false,
            error: "",
        }
    }

    fn error(&self, error: &'static str) -> Token {
        let mut t = self.token(Kind::Error, self.ptr);
        t.error = error;
        t
    }

    /// `json_is_invalid_number`: forms `strtod` takes but JSON does not.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if self.at(p) <= b'9' {
            return false;
        }
        let word: Vec<u8> = (0..3).map(|k| self.at(p + k).to_ascii_lowercase()).collect();
        word == b"inf" || word == b"nan"
    }

    fn number(&mut self) -> Token {
        match strtod(&self.data[self.ptr.min(self.data.len())..]) {
            Some((len, v)) if len > 0 => {
                let mut t = self.token(Kind::Number, self.ptr);
                t.number = v;
                self.ptr += len;
                t
            }
            _ => self.error("invalid number"),
        }
    }

    fn string(&mut self) -> Token {
        let start = self.ptr;
        self.ptr += 1;
        let mut text = Vec::new();
        loop {
            let ch = self.at(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error("unexpected end of string");
            }
            if ch == b'\\' {
                let translated = match self.at(self.ptr + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape(&mut text) {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                text.push(translated);
                self.ptr += 2;
                continue;
            }
            text.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        let mut t = self.token(Kind::Str, start);
        t.text = text;
        t
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..4 {
            v = (v << 4) | (self.at(at + k) as char).to_digit(16)?;
        }
        Some(v)
    }

    /// `json_append_unicode_escape`: `\uXXXX` (or a surrogate pair) as UTF-8.
    fn unicode_escape(&mut self, text: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.ptr + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.ptr + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        match char::from_u32(cp) {
            Some(c) => {
                let mut buf = [0u8; 4];
                text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            None => {
                // A lone low surrogate: the three bytes C CJSON writes for it.
                text.push((0xE0 | (cp >> 12)) as u8);
                text.push((0x80 | ((cp >> 6) & 0x3F)) as u8);
                text.push((0x80 | (cp & 0x3F)) as u8);
            }
        }
        self.ptr += len;
        true
    }

    /// The next token (whitespace skipped).
    pub(super) fn next(&mut self) -> Token {
        while matches!(self.at(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let index = self.ptr;
        let single = |kind| Some(kind);
        let kind = match self.at(index) {
            b'{' => single(Kind::ObjBegin),
            b'}' => single(Kind::ObjEnd),
            b'[' => single(Kind::ArrBegin),
            b']' => single(Kind::ArrEnd),
            b',' => single(Kind::Comma),
            b':' => single(Kind::Colon),
            0 => return self.token(Kind::End, index),
            _ => None,
        };
        if let Some(kind) = kind {
            self.ptr += 1;
            return self.token(kind, index);
        }
        let ch = self.at(index);
        let rest = &self.data[index.min(self.data.len())..];
        match ch {
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => {
                if !self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                    return self.error("invalid number");
                }
                self.number()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if rest.starts_with(b"true") || rest.starts_with(b"false") {
                    let value = ch == b't';
                    self.ptr += if value { 4 } else { 5 };
                    let mut t = self.token(Kind::Boolean, index);
                    t.boolean = value;
                    t
                } else if rest.starts_with(b"null") {
                    self.ptr += 4;
                    self.token(Kind::Null, index)
                } else if self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                    self.number()
                } else {
                    self.error("invalid token")
                }
            }
            _ => self.error("invalid token"),
        }
    }

    /// The error for `token` where `expected` should have been.
    pub(super) fn throw(&self, expected: &str, token: &Token) -> Raise {
        let found = if token.kind == Kind::Error {
            token.error
        } else {
            token.kind.name()
        };
        Raise::At(format!(
            "Expected {expected} but found {found} at character {}",
            token.index + 1
        ))
    }

    /// One container deeper: the error past `decode_max_depth` (or the structure cap).
    pub(super) fn descend(&mut self) -> Result<(), Raise> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && self.depth as usize <= NESTING_CAP {
            return Ok(());
        }
        Err(Raise::At(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.ptr
        )))
    }
}
