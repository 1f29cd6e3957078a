//! Text functions beyond the basics in `functions.rs`, with PostgreSQL's results and errors:
//! hashing and binary encodings (`md5`, `sha256`, `encode`, `decode`), bytes (`octet_length`,
//! `get_byte`, `set_byte`, `convert_to` and `convert_from` for UTF8), the regular-expression
//! functions (`regexp_replace`, `regexp_match`, `regexp_split_to_array`, on `pattern.rs`),
//! padding and splitting (`lpad`, `rpad`, `split_part`, `translate`, `initcap`,
//! `concat_ws`, `starts_with`, `chr`, `ascii`, `to_hex`), and SQL quoting (`format`,
//! `quote_ident`, `quote_literal`, `quote_nullable`).
//!
//! [`resolve`] picks a [`TextFunc`] and the types its arguments are coerced to; [`eval`]
//! computes it. Every function is strict (NULL in, NULL out) except `concat_ws`, `format`
//! and `quote_nullable`, which give NULL arguments a meaning.

use base64::Engine;
use md5::{Digest, Md5};
use zqlite_projections::value::{Array, DataType, Value, parse_bytea_escape, parse_bytea_hex};

use crate::error::{Error, Result};
use crate::functions::{int_arg as int, is_string_arg, no_function, text_arg as text};
use crate::pattern::with_regex;
use crate::system::catalog_functions::quote_ident;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextFunc {
    Md5,
    Sha256,
    /// `octet_length(text | bytea)`, and `length(bytea)`.
    OctetLength,
    GetByte,
    SetByte,
    ConvertTo,
    ConvertFrom,
    Encode,
    Decode,
    RegexpReplace,
    RegexpMatch,
    RegexpSplitToArray,
    SplitPart,
    Lpad,
    Rpad,
    Translate,
    Initcap,
    ConcatWs,
    StartsWith,
    Chr,
    Ascii,
    ToHex,
    Format,
    QuoteIdent,
    QuoteLiteral,
    QuoteNullable,
    HashText,
}

const NAMES: &[(&str, TextFunc)] = &[
    ("md5", TextFunc::Md5),
    ("hashtext", TextFunc::HashText),
    ("sha256", TextFunc::Sha256),
    ("octet_length", TextFunc::OctetLength),
    ("get_byte", TextFunc::GetByte),
    ("set_byte", TextFunc::SetByte),
    ("convert_to", TextFunc::ConvertTo),
    ("convert_from", TextFunc::ConvertFrom),
    ("encode", TextFunc::Encode),
    ("decode", TextFunc::Decode),
    ("regexp_replace", TextFunc::RegexpReplace),
    ("regexp_match", TextFunc::RegexpMatch),
    ("regexp_split_to_array", TextFunc::RegexpSplitToArray),
    ("split_part", TextFunc::SplitPart),
    ("lpad", TextFunc::Lpad),
    ("rpad", TextFunc::Rpad),
    ("translate", TextFunc::Translate),
    ("initcap", TextFunc::Initcap),
    ("concat_ws", TextFunc::ConcatWs),
    ("starts_with", TextFunc::StartsWith),
    ("chr", TextFunc::Chr),
    ("ascii", TextFunc::Ascii),
    ("to_hex", TextFunc::ToHex),
    ("format", TextFunc::Format),
    ("quote_ident", TextFunc::QuoteIdent),
    ("quote_literal", TextFunc::QuoteLiteral),
    ("quote_nullable", TextFunc::QuoteNullable),
];

impl TextFunc {
    pub fn name(&self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, f)| f == self)
            .map(|(name, _)| *name)
            .expect("every function has a name")
    }

    /// Whether a NULL argument makes the result NULL without calling the function.
    pub fn is_strict(&self) -> bool {
        !matches!(
            self,
            TextFunc::ConcatWs | TextFunc::Format | TextFunc::QuoteNullable
        )
    }
}

pub fn is_text_function(name: &str) -> bool {
    NAMES.iter().any(|(n, _)| *n == name)
}

/// A call resolved: the function, the type each argument is coerced to (`None`: as it
/// is), and the result type.
#[derive(Debug)]
pub struct Resolved {
    pub func: TextFunc,
    pub arg_types: Vec<Option<DataType>>,
    pub result: DataType,
}

fn is_bytea(t: &Option<DataType>) -> bool {
    t.is_none_or(|t| t == DataType::Bytea)
}

/// Checks an encoding name of `convert_to`/`convert_from`: zqlite's text is UTF8, the only
/// encoding it converts to and from.
fn check_utf8(name: &str, direction: &str) -> Result<()> {
    let normal: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match normal.as_str() {
        "utf8" | "unicode" => Ok(()),
        "sqlascii" | "latin1" | "latin2" | "latin9" | "win1252" | "win1251" | "eucjp" | "sjis"
        | "gbk" | "big5" | "koi8r" | "iso88591" => Err(Error::unsupported(format!(
            "conversion with encoding \"{name}\""
        ))),
        _ => Err(runtime(
            "22023",
            format!("invalid {direction} encoding name \"{name}\""),
        )),
    }
}

fn bytes_arg(v: &Value) -> &[u8] {
    match v {
        Value::Bytea(b) => b,
        _ => &[],
    }
}

fn is_integer(t: &Option<DataType>) -> bool {
    t.is_none_or(|t| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8))
}

/// Resolves a call of `name` (one of [`is_text_function`]'s) with arguments of these types.
pub fn resolve(name: &str, args: &[Option<DataType>]) -> Result<Resolved> {
    use DataType as T;
    use TextFunc as F;
    let text = Some(T::Text);
    let int = Some(T::Int4);
    let strings = |n: usize| args.len() == n && args.iter().all(is_string_arg);
    let (func, arg_types, result) = match name {
        "md5" if args.len() == 1 && args[0] == Some(T::Bytea) => (F::Md5, vec![None], T::Text),
        "md5" if strings(1) => (F::Md5, vec![text], T::Text),
        "hashtext" if strings(1) => (F::HashText, vec![text], T::Int4),
        "sha256" if args == [None] || args == [Some(T::Bytea)] => {
            (F::Sha256, vec![Some(T::Bytea)], T::Bytea)
        }
        "octet_length" if args == [Some(T::Bytea)] => (F::OctetLength, vec![None], T::Int4),
        "octet_length" if strings(1) => (F::OctetLength, vec![text], T::Int4),
        "get_byte" if args.len() == 2 && is_bytea(&args[0]) && is_integer(&args[1]) => {
            (F::GetByte, vec![Some(T::Bytea), int], T::Int4)
        }
        "set_byte"
            if args.len() == 3
                && is_bytea(&args[0])
                && is_integer(&args[1])
                && is_integer(&args[2]) =>
        {
            (F::SetByte, vec![Some(T::Bytea), int, int], T::Bytea)
        }
        "convert_to" if strings(2) => (F::ConvertTo, vec![text, text], T::Bytea),
        "convert_from" if args.len() == 2 && is_bytea(&args[0]) && is_string_arg(&args[1]) => {
            (F::ConvertFrom, vec![Some(T::Bytea), text], T::Text)
        }
        "encode" if args.len() == 2 && args[0] == Some(T::Bytea) && is_string_arg(&args[1]) => {
            (F::Encode, vec![None, text], T::Text)
        }
        "decode" if strings(2) => (F::Decode, vec![text, text], T::Bytea),
        "regexp_replace" if strings(3) || strings(4) => {
            (F::RegexpReplace, vec![text; args.len()], T::Text)
        }
        "regexp_match" if strings(2) || strings(3) => {
            (F::RegexpMatch, vec![text; args.len()], T::TEXT_ARRAY)
        }
        "regexp_split_to_array" if strings(2) || strings(3) => {
            (F::RegexpSplitToArray, vec![text; args.len()], T::TEXT_ARRAY)
        }
        "split_part" if args.len() == 3 && is_string_arg(&args[0]) && is_string_arg(&args[1]) => {
            is_integer(&args[2])
                .then_some(())
                .ok_or_else(|| no_function(name, args))?;
            (F::SplitPart, vec![text, text, int], T::Text)
        }
        "lpad" | "rpad"
            if (args.len() == 2 || args.len() == 3)
                && is_string_arg(&args[0])
                && is_integer(&args[1])
                && args.get(2).is_none_or(is_string_arg) =>
        {
            let func = if name == "lpad" { F::Lpad } else { F::Rpad };
            let mut types = vec![text, int];
            if args.len() == 3 {
                types.push(text);
            }
            (func, types, T::Text)
        }
        "translate" if strings(3) => (F::Translate, vec![text; 3], T::Text),
        "initcap" if strings(1) => (F::Initcap, vec![text], T::Text),
        "concat_ws" if args.len() >= 2 && is_string_arg(&args[0]) => {
            let mut types = vec![text];
            types.extend(
                args[1..]
                    .iter()
                    .map(|t| if t.is_none() { text } else { None }),
            );
            (F::ConcatWs, types, T::Text)
        }
        "starts_with" if strings(2) => (F::StartsWith, vec![text, text], T::Bool),
        "chr" if args.len() == 1 && is_integer(&args[0]) => (F::Chr, vec![int], T::Text),
        "ascii" if strings(1) => (F::Ascii, vec![text], T::Int4),
        "to_hex" if args.len() == 1 && is_integer(&args[0]) => {
            let ty = if args[0] == Some(T::Int8) {
                T::Int8
            } else {
                T::Int4
            };
            (F::ToHex, vec![Some(ty)], T::Text)
        }
        "format" if !args.is_empty() && is_string_arg(&args[0]) => {
            let mut types = vec![text];
            types.extend(
                args[1..]
                    .iter()
                    .map(|t| if t.is_none() { text } else { None }),
            );
            (F::Format, types, T::Text)
        }
        "quote_ident" if strings(1) => (F::QuoteIdent, vec![text], T::Text),
        "quote_literal" | "quote_nullable" if args.len() == 1 => {
            let func = if name == "quote_literal" {
                F::QuoteLiteral
            } else {
                F::QuoteNullable
            };
            let ty = if args[0].is_none() { text } else { None };
            (func, vec![ty], T::Text)
        }
        _ => return Err(no_function(name, args)),
    };
    Ok(Resolved {
        func,
        arg_types,
        result,
    })
}

fn runtime(sqlstate: &'static str, message: impl Into<String>) -> Error {
    Error::Runtime {
        sqlstate,
        message: message.into(),
    }
}

fn text_array(items: Vec<Option<String>>) -> Value {
    let items = items
        .into_iter()
        .map(|s| s.map_or(Value::Null, Value::Text))
        .collect();
    Value::Array(std::sync::Arc::new(Array::new(DataType::Text, items)))
}

/// Evaluates `func` on its evaluated (and coerced) arguments.
pub fn eval(func: TextFunc, args: &[Value]) -> Result<Value> {
    use TextFunc as F;
    if func.is_strict() && args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    Ok(match func {
        F::HashText => Value::Int4(crate::hash_text::hashtext(&text(&args[0]))),
        F::Md5 => {
            let bytes = match &args[0] {
                Value::Bytea(b) => b.clone(),
                v => text(v).into_bytes(),
            };
            Value::Text(hex(&Md5::digest(&bytes)))
        }
        F::Sha256 => {
            use sha2::Digest as _;
            Value::Bytea(sha2::Sha256::digest(bytes_arg(&args[0])).to_vec())
        }
        F::OctetLength => {
            let n = match &args[0] {
                Value::Bytea(b) => b.len(),
                v => text(v).len(),
            };
            Value::Int4(i32::try_from(n).unwrap_or(i32::MAX))
        }
        F::GetByte | F::SetByte => {
            let mut bytes = bytes_arg(&args[0]).to_vec();
            let n = int(&args[1]).unwrap_or(-1);
            let Some(at) = usize::try_from(n).ok().filter(|&i| i < bytes.len()) else {
                return Err(runtime(
                    "2202E",
                    format!(
                        "index {n} out of valid range, 0..{}",
                        bytes.len() as i64 - 1
                    ),
                ));
            };
            if func == F::GetByte {
                return Ok(Value::Int4(i32::from(bytes[at])));
            }
            // Only the low 8 bits of the new value are kept, as in PostgreSQL.
            bytes[at] = int(&args[2]).unwrap_or(0) as u8;
            Value::Bytea(bytes)
        }
        F::ConvertTo => {
            check_utf8(&text(&args[1]), "destination")?;
            Value::Bytea(text(&args[0]).into_bytes())
        }
        F::ConvertFrom => {
            check_utf8(&text(&args[1]), "source")?;
            let bytes = bytes_arg(&args[0]);
            match std::str::from_utf8(bytes) {
                Ok(s) if !s.contains('\0') => Value::Text(s.to_owned()),
                Ok(s) => {
                    let at = s.find('\0').unwrap_or(0);
                    return Err(runtime(
                        "22021",
                        format!(
                            "invalid byte sequence for encoding \"UTF8\": 0x{:02x}",
                            bytes[at]
                        ),
                    ));
                }
                Err(e) => {
                    return Err(runtime(
                        "22021",
                        format!(
                            "invalid byte sequence for encoding \"UTF8\": 0x{:02x}",
                            bytes[e.valid_up_to()]
                        ),
                    ));
                }
            }
        }
        F::Encode => {
            let Value::Bytea(bytes) = &args[0] else {
                return Err(runtime("42804", "encode() takes bytea"));
            };
            Value::Text(encode(bytes, &text(&args[1]))?)
        }
        F::Decode => Value::Bytea(decode(&text(&args[0]), &text(&args[1]))?),
        F::RegexpReplace => {
            let flags = Flags::parse(args.get(3).map(text).as_deref())?;
            Value::Text(regexp_replace(
                &text(&args[0]),
                &text(&args[1]),
                &text(&args[2]),
                flags,
            )?)
        }
        F::RegexpMatch => {
            let flags = Flags::parse(args.get(2).map(text).as_deref())?;
            if flags.global {
                return Err(runtime(
                    "22023",
                    "regexp_match() does not support the \"global\" option",
                ));
            }
            match regexp_match(&text(&args[0]), &text(&args[1]), flags)? {
                Some(groups) => text_array(groups),
                None => Value::Null,
            }
        }
        F::RegexpSplitToArray => {
            let flags = Flags::parse(args.get(2).map(text).as_deref())?;
            if flags.global {
                return Err(runtime(
                    "22023",
                    "regexp_split_to_array() does not support the \"global\" option",
                ));
            }
            let pieces = regexp_split(&text(&args[0]), &text(&args[1]), flags)?;
            text_array(pieces.into_iter().map(Some).collect())
        }
        F::SplitPart => Value::Text(split_part(
            &text(&args[0]),
            &text(&args[1]),
            int(&args[2])?,
        )?),
        F::Lpad | F::Rpad => {
            let fill = args.get(2).map_or(" ".to_string(), text);
            Value::Text(pad(&text(&args[0]), int(&args[1])?, &fill, func == F::Lpad))
        }
        F::Translate => Value::Text(translate(&text(&args[0]), &text(&args[1]), &text(&args[2]))),
        F::Initcap => Value::Text(initcap(&text(&args[0]))),
        F::ConcatWs => {
            if args[0].is_null() {
                return Ok(Value::Null);
            }
            let parts: Vec<String> = args[1..]
                .iter()
                .filter(|v| !v.is_null())
                .map(text)
                .collect();
            Value::Text(parts.join(&text(&args[0])))
        }
        F::StartsWith => Value::Bool(text(&args[0]).starts_with(&text(&args[1]))),
        F::Chr => Value::Text(chr(int(&args[0])?)?.to_string()),
        F::Ascii => Value::Int4(text(&args[0]).chars().next().map_or(0, |c| c as i32)),
        F::ToHex => Value::Text(match &args[0] {
            Value::Int8(i) => format!("{:x}", *i as u64),
            v => format!("{:x}", int(v)? as i32 as u32),
        }),
        F::Format => {
            if args[0].is_null() {
                return Ok(Value::Null);
            }
            Value::Text(format(&text(&args[0]), &args[1..])?)
        }
        F::QuoteIdent => Value::Text(quote_ident(&text(&args[0]))),
        F::QuoteLiteral => Value::Text(quote_literal(&text(&args[0]))),
        F::QuoteNullable => Value::Text(if args[0].is_null() {
            "NULL".to_string()
        } else {
            quote_literal(&text(&args[0]))
        }),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unrecognized_encoding(name: &str) -> Error {
    runtime("22023", format!("unrecognized encoding: \"{name}\""))
}

/// `encode(bytes, format)`: `hex`, `base64` (lines of 76 characters, as PostgreSQL
/// writes it) or `escape`.
fn encode(bytes: &[u8], format: &str) -> Result<String> {
    Ok(match format.to_ascii_lowercase().as_str() {
        "hex" => hex(bytes),
        "base64" => {
            let flat = base64::engine::general_purpose::STANDARD.encode(bytes);
            let lines: Vec<&str> = flat
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
                .collect();
            lines.join("\n")
        }
        "escape" => {
            let mut out = String::new();
            for &b in bytes {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    0 | 0x80..=0xff => out.push_str(&format!("\\{b:03o}")),
                    _ => out.push(b as char),
                }
            }
            out
        }
        _ => return Err(unrecognized_encoding(format)),
    })
}

/// `decode(text, format)`, the inverse of [`encode`].
fn decode(s: &str, format: &str) -> Result<Vec<u8>> {
    Ok(match format.to_ascii_lowercase().as_str() {
        "hex" => parse_bytea_hex(s)?,
        "base64" => {
            let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| runtime("22023", format!("invalid base64 data: {e}")))?
        }
        "escape" => parse_bytea_escape(s)?,
        _ => return Err(unrecognized_encoding(format)),
    })
}

/// The flags argument of the regular-expression functions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flags {
    pub(crate) global: bool,
    pub(crate) case_insensitive: bool,
    /// `q`: the pattern is a literal string.
    literal: bool,
    /// Inline flags of the `regex` crate for `n`, `p`, `w` and `x`.
    inline: String,
}

impl Flags {
    pub(crate) fn parse(flags: Option<&str>) -> Result<Flags> {
        let mut out = Flags::default();
        for c in flags.unwrap_or("").chars() {
            match c {
                'g' => out.global = true,
                'i' => out.case_insensitive = true,
                'c' => out.case_insensitive = false,
                'q' => out.literal = true,
                // Newline-sensitive: `.` stops at newlines and `^`/`$` match at them.
                'n' | 'm' => out.inline.push_str("m-s"),
                'p' => out.inline.push_str("-s"),
                'w' => out.inline.push('m'),
                'x' => out.inline.push('x'),
                's' | 't' => {}
                'b' | 'e' => {
                    return Err(runtime(
                        "0A000",
                        format!(
                            "regular expression option \"{c}\" (basic or extended POSIX \
                             syntax) is not supported; patterns use the advanced syntax"
                        ),
                    ));
                }
                other => {
                    return Err(runtime(
                        "22023",
                        format!("invalid regular expression option: \"{other}\""),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The pattern as the `regex` crate is given it.
    pub(crate) fn pattern(&self, pattern: &str) -> String {
        let body = if self.literal {
            regex::escape(pattern)
        } else {
            pattern.to_string()
        };
        if self.inline.is_empty() {
            body
        } else {
            format!("(?{}){body}", self.inline)
        }
    }
}

/// `regexp_replace`: the first match (every match with `g`) replaced; in the replacement
/// `\1`..`\9` stand for groups, `\&` for the whole match and `\\` for a backslash.
fn regexp_replace(source: &str, pattern: &str, replacement: &str, flags: Flags) -> Result<String> {
    with_regex(&flags.pattern(pattern), flags.case_insensitive, |re| {
        let mut out = String::with_capacity(source.len());
        let mut last = 0;
        let mut search = 0;
        // As PostgreSQL searches: from the end of the previous match, one character further
        // after an empty one (so `a*` replaces "aaa" and then the empty string after it).
        while search <= source.len() {
            let Some(caps) = re.captures_at(source, search) else {
                break;
            };
            let whole = caps.get(0).expect("group 0 is the match");
            out.push_str(&source[last..whole.start()]);
            let mut chars = replacement.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.peek().copied() {
                    Some(d @ '1'..='9') => {
                        chars.next();
                        let group = d.to_digit(10).expect("a digit") as usize;
                        if let Some(m) = caps.get(group) {
                            out.push_str(m.as_str());
                        }
                    }
                    Some('&') => {
                        chars.next();
                        out.push_str(whole.as_str());
                    }
                    Some('\\') => {
                        chars.next();
                        out.push('\\');
                    }
                    _ => out.push('\\'),
                }
            }
            last = whole.end();
            if !flags.global {
                break;
            }
            search = match next_search(source, whole.start(), whole.end()) {
                Some(next) => next,
                None => break,
            };
        }
        out.push_str(&source[last..]);
        out
    })
}

/// Where the next search starts after a match of `start..end`: its end, or one character
/// further after an empty match (`None` past the end of the text).
fn next_search(source: &str, start: usize, end: usize) -> Option<usize> {
    if start != end {
        return Some(end);
    }
    source[end..].chars().next().map(|c| end + c.len_utf8())
}

/// `regexp_match`: the groups of the first match (the whole match when the pattern has
/// none; an unmatched group is NULL), or `None` without a match.
fn regexp_match(source: &str, pattern: &str, flags: Flags) -> Result<Option<Vec<Option<String>>>> {
    with_regex(&flags.pattern(pattern), flags.case_insensitive, |re| {
        re.captures(source).map(|caps| {
            if caps.len() == 1 {
                vec![Some(caps[0].to_string())]
            } else {
                (1..caps.len())
                    .map(|i| caps.get(i).map(|m| m.as_str().to_string()))
                    .collect()
            }
        })
    })
}

/// `regexp_matches`: the capture groups (or the whole match) of the first match, or of
/// every match with the `g` flag.
pub(crate) fn regexp_matches(
    source: &str,
    pattern: &str,
    flags: Option<&str>,
) -> Result<Vec<Vec<Option<String>>>> {
    let flags = Flags::parse(flags)?;
    let global = flags.global;
    with_regex(&flags.pattern(pattern), flags.case_insensitive, |re| {
        let groups = |caps: regex::Captures<'_>| -> Vec<Option<String>> {
            if caps.len() == 1 {
                vec![Some(caps[0].to_string())]
            } else {
                (1..caps.len())
                    .map(|i| caps.get(i).map(|m| m.as_str().to_string()))
                    .collect()
            }
        };
        if global {
            re.captures_iter(source).map(groups).collect()
        } else {
            re.captures(source).map(groups).into_iter().collect()
        }
    })
}

/// `regexp_split_to_table`: the pieces of `regexp_split_to_array`, one per row.
pub(crate) fn regexp_split_to_table(
    source: &str,
    pattern: &str,
    flags: Option<&str>,
) -> Result<Vec<String>> {
    let flags = Flags::parse(flags)?;
    if flags.global {
        return Err(runtime(
            "22023",
            "regexp_split_to_table() does not support the \"global\" option",
        ));
    }
    regexp_split(source, pattern, flags)
}

/// `regexp_split_to_array`: the text between matches. As in PostgreSQL, a zero-length
/// match at either end of the text, or right where the previous match ended, splits
/// nothing.
fn regexp_split(source: &str, pattern: &str, flags: Flags) -> Result<Vec<String>> {
    with_regex(&flags.pattern(pattern), flags.case_insensitive, |re| {
        let mut pieces = Vec::new();
        let mut piece_start = 0;
        let mut previous_end = 0;
        let mut search = 0;
        while search <= source.len() {
            let Some(m) = re.find_at(source, search) else {
                break;
            };
            if m.start() < source.len() && m.end() > previous_end {
                pieces.push(source[piece_start..m.start()].to_string());
                piece_start = m.end();
            }
            previous_end = m.end();
            search = match next_search(source, m.start(), m.end()) {
                Some(next) => next,
                None => break,
            };
        }
        pieces.push(source[piece_start..].to_string());
        pieces
    })
}

/// `split_part`: the `n`th field (from the end when negative) of `s` split at `delimiter`.
fn split_part(s: &str, delimiter: &str, n: i64) -> Result<String> {
    if n == 0 {
        return Err(runtime("22023", "field position must not be zero"));
    }
    let fields: Vec<&str> = if delimiter.is_empty() {
        vec![s]
    } else {
        s.split(delimiter).collect()
    };
    let index = if n > 0 {
        usize::try_from(n - 1).ok()
    } else {
        usize::try_from(-n)
            .ok()
            .and_then(|back| fields.len().checked_sub(back))
    };
    Ok(index
        .and_then(|i| fields.get(i))
        .map_or(String::new(), |f| f.to_string()))
}

/// `lpad` / `rpad`: `s` filled with repetitions of `fill` (or cut) to `length` characters.
fn pad(s: &str, length: i64, fill: &str, left: bool) -> String {
    let length = length.max(0) as usize;
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= length {
        return chars[..length].iter().collect();
    }
    if fill.is_empty() {
        return s.to_string();
    }
    let padding: String = fill.chars().cycle().take(length - chars.len()).collect();
    if left {
        padding + s
    } else {
        s.to_string() + &padding
    }
}

/// `translate`: each character of `from` replaced by the one at its position in `to`, or
/// removed when `to` is shorter.
fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|&f| f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// `initcap`: the first letter of every run of letters and digits upper case, the rest
/// lower case.
fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        out.push(if in_word {
            lower_char(c)
        } else {
            upper_char(c)
        });
        in_word = c.is_alphanumeric();
    }
    out
}

/// A character's upper case as PostgreSQL's `upper()` gives it under a UTF-8 locale: one
/// character for one (`ß` stays `ß`, where full Unicode case mapping makes it `SS`).
pub fn upper_char(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// A character's lower case, one character for one (see [`upper_char`]).
pub fn lower_char(c: char) -> char {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn chr(code: i64) -> Result<char> {
    if code == 0 {
        return Err(runtime("54000", "null character not permitted"));
    }
    if code < 0 {
        return Err(runtime("22023", "character number must be positive"));
    }
    u32::try_from(code)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| runtime("54000", "requested character too large for encoding"))
}

/// `quote_literal`: single-quoted, quotes doubled; with an `E` prefix and doubled
/// backslashes when the text has a backslash, as PostgreSQL writes it.
fn quote_literal(s: &str) -> String {
    let body = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    }
}

/// `format(fmt, args...)`: `%s` (text; NULL as nothing), `%I` (identifier), `%L`
/// (literal; NULL as `NULL`) and `%%`, each with an optional argument position `n$` and
/// width (`-` to align left, `*` to take it from the arguments).
fn format(fmt: &str, args: &[Value]) -> Result<String> {
    let bad = |message: &str| runtime("22023", message.to_string());
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut next_arg = 0usize;
    let take_number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut n: Option<usize> = None;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            chars.next();
            n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
        }
        n
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // Position: digits followed by `$`.
        let mut lookahead = chars.clone();
        let digits = take_number(&mut lookahead);
        if let (Some(position), Some('$')) = (digits, lookahead.peek().copied()) {
            if position == 0 {
                return Err(bad(
                    "format specifies argument 0, but arguments are numbered from 1",
                ));
            }
            lookahead.next();
            chars = lookahead;
            next_arg = position - 1;
        }
        let mut left = false;
        if chars.peek() == Some(&'-') {
            chars.next();
            left = true;
        }
        let width = if chars.peek() == Some(&'*') {
            chars.next();
            let value = args
                .get(next_arg)
                .ok_or_else(|| bad("too few arguments for format()"))?;
            next_arg += 1;
            if value.is_null() {
                None
            } else {
                let w = int(value)?;
                if w < 0 {
                    left = true;
                }
                Some(w.unsigned_abs() as usize)
            }
        } else {
            take_number(&mut chars)
        };
        let Some(kind) = chars.next() else {
            return Err(bad("unterminated format() type specifier"));
        };
        let value = args
            .get(next_arg)
            .ok_or_else(|| bad("too few arguments for format()"))?;
        next_arg += 1;
        let formatted = match kind {
            's' => {
                if value.is_null() {
                    String::new()
                } else {
                    text(value)
                }
            }
            'I' => {
                if value.is_null() {
                    return Err(runtime(
                        "22004",
                        "null values cannot be formatted as an SQL identifier",
                    ));
                }
                quote_ident(&text(value))
            }
            'L' => {
                if value.is_null() {
                    "NULL".to_string()
                } else {
                    quote_literal(&text(value))
                }
            }
            other => {
                return Err(bad(&format!(
                    "unrecognized format() type specifier \"{other}\""
                )));
            }
        };
        let len = formatted.chars().count();
        let fill = " ".repeat(width.unwrap_or(0).saturating_sub(len));
        if left {
            out.push_str(&formatted);
            out.push_str(&fill);
        } else {
            out.push_str(&fill);
            out.push_str(&formatted);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn call(name: &str, args: &[Value]) -> Result<Value> {
        let types: Vec<Option<DataType>> = args.iter().map(Value::data_type).collect();
        eval(resolve(name, &types)?.func, args)
    }

    fn text_of(name: &str, args: &[Value]) -> String {
        match call(name, args).unwrap() {
            Value::Text(s) => s,
            other => other.to_string(),
        }
    }

    // Expected values below are PostgreSQL 15's answers to the same calls.

    #[test]
    fn hashes_and_encodings() {
        assert_eq!(
            text_of("md5", &[t("abc")]),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        let bytes = Value::Bytea(vec![0, 0xff, b'\\', b'A']);
        assert_eq!(
            text_of("encode", &[bytes.clone(), t("escape")]),
            "\\000\\377\\\\A"
        );
        assert_eq!(text_of("encode", &[bytes.clone(), t("hex")]), "00ff5c41");
        let long = Value::Bytea(b"ab".repeat(40));
        assert_eq!(
            text_of("encode", &[long.clone(), t("base64")]),
            "YWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJh\n\
             YmFiYWJhYmFiYWJhYmFiYWJhYmFiYWI="
        );
        for format in ["hex", "base64", "escape"] {
            let encoded = call("encode", &[bytes.clone(), t(format)]).unwrap();
            assert_eq!(call("decode", &[encoded, t(format)]).unwrap(), bytes);
        }
        let err = call("encode", &[bytes, t("rot13")]).unwrap_err();
        assert_eq!(err.sqlstate(), "22023");
        assert_eq!(err.to_string(), "unrecognized encoding: \"rot13\"");
        let err = call("decode", &[t("abc"), t("hex")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid hexadecimal data: odd number of digits"
        );
        let err = call("decode", &[t("zz"), t("hex")]).unwrap_err();
        assert_eq!(err.to_string(), "invalid hexadecimal digit: \"z\"");
    }

    #[test]
    fn regular_expression_functions() {
        assert_eq!(
            text_of(
                "regexp_replace",
                &[t("foobarbaz"), t("b(..)"), t("X\\1Y"), t("g")]
            ),
            "fooXarYXazY"
        );
        assert_eq!(
            text_of("regexp_replace", &[t("foobarbaz"), t("B(..)"), t("[\\&]")]),
            "foobarbaz"
        );
        assert_eq!(
            text_of(
                "regexp_replace",
                &[t("foobarbaz"), t("B(..)"), t("[\\&]"), t("i")]
            ),
            "foo[bar]baz"
        );
        assert_eq!(text_of("regexp_match", &[t("foobar"), t("o(.)b")]), "{o}");
        assert_eq!(text_of("regexp_match", &[t("foobar"), t("o.b")]), "{oob}");
        assert!(
            call("regexp_match", &[t("foobar"), t("x")])
                .unwrap()
                .is_null()
        );
        assert_eq!(
            text_of("regexp_split_to_array", &[t("abc"), t("")]),
            "{a,b,c}"
        );
        assert_eq!(
            text_of("regexp_split_to_array", &[t(" a  b "), t("\\s+")]),
            "{\"\",a,b,\"\"}"
        );
        assert_eq!(
            text_of("regexp_split_to_array", &[t("a1b22c"), t("\\d*")]),
            "{a,b,c}"
        );
        let err = call("regexp_match", &[t("a"), t("a"), t("g")]).unwrap_err();
        assert_eq!(err.sqlstate(), "22023");
        assert_eq!(
            text_of("regexp_replace", &[t("aaa"), t("a*"), t("X"), t("g")]),
            "XX"
        );
        assert_eq!(
            text_of("regexp_replace", &[t("a.b"), t("."), t("-"), t("gq")]),
            "a-b"
        );
        assert_eq!(
            text_of("regexp_replace", &[t("a\nb\nc"), t("^."), t("X"), t("gn")]),
            "X\nX\nX"
        );
        let err = call("regexp_replace", &[t("a"), t("a"), t("b"), t("z")]).unwrap_err();
        assert_eq!(err.to_string(), "invalid regular expression option: \"z\"");
    }

    #[test]
    fn padding_splitting_and_characters() {
        assert_eq!(
            text_of("split_part", &[t("a,b,c"), t(","), Value::Int4(-1)]),
            "c"
        );
        assert_eq!(
            text_of("split_part", &[t("a,b,c"), t(","), Value::Int4(2)]),
            "b"
        );
        assert_eq!(
            text_of("split_part", &[t("a,b,c"), t(","), Value::Int4(9)]),
            ""
        );
        let err = call("split_part", &[t("a"), t(","), Value::Int4(0)]).unwrap_err();
        assert_eq!(err.to_string(), "field position must not be zero");
        assert_eq!(
            text_of("lpad", &[t("hi"), Value::Int4(5), t("xy")]),
            "xyxhi"
        );
        assert_eq!(text_of("rpad", &[t("hello"), Value::Int4(3)]), "hel");
        assert_eq!(text_of("rpad", &[t("hi"), Value::Int4(4)]), "hi  ");
        assert_eq!(
            text_of("initcap", &[t("hello wORLD-foo bar_baz 3x")]),
            "Hello World-Foo Bar_Baz 3x"
        );
        assert_eq!(
            text_of("translate", &[t("12345"), t("143"), t("ax")]),
            "a2x5"
        );
        assert_eq!(text_of("chr", &[Value::Int4(65)]), "A");
        assert_eq!(call("ascii", &[t("é")]).unwrap(), Value::Int4(233));
        assert_eq!(text_of("to_hex", &[Value::Int4(-1)]), "ffffffff");
        assert_eq!(text_of("to_hex", &[Value::Int8(-1)]), "ffffffffffffffff");
        assert_eq!(
            text_of("concat_ws", &[t(","), t("a"), Value::Null, Value::Int4(3)]),
            "a,3"
        );
        assert_eq!(
            call("starts_with", &[t("alphabet"), t("alph")]).unwrap(),
            Value::Bool(true)
        );
        assert!(call("chr", &[Value::Int4(0)]).is_err());
    }

    #[test]
    fn format_and_quoting() {
        assert_eq!(
            text_of(
                "format",
                &[
                    t("%s|%I|%L|%-5s|%5s|%2$s"),
                    t("a"),
                    t("B c"),
                    t("it's"),
                    t("x"),
                    t("y")
                ]
            ),
            "a|\"B c\"|'it''s'|x    |    y|B c"
        );
        assert_eq!(text_of("format", &[t("%L"), Value::Null]), "NULL");
        assert_eq!(text_of("format", &[t("[%s]"), Value::Null]), "[]");
        assert_eq!(
            text_of("format", &[t("%*s|"), Value::Int4(4), t("a")]),
            "   a|"
        );
        assert_eq!(text_of("format", &[t("100%%")]), "100%");
        let err = call("format", &[t("%s %s"), t("a")]).unwrap_err();
        assert_eq!(err.to_string(), "too few arguments for format()");
        let err = call("format", &[t("%I"), Value::Null]).unwrap_err();
        assert_eq!(err.sqlstate(), "22004");
        assert_eq!(text_of("quote_ident", &[t("select")]), "\"select\"");
        assert_eq!(text_of("quote_ident", &[t("name")]), "name");
        assert_eq!(text_of("quote_literal", &[t("a\\b")]), "E'a\\\\b'");
        assert_eq!(text_of("quote_nullable", &[Value::Null]), "NULL");
    }
}
