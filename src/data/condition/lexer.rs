//! Splitting a condition into tokens: names, quoted names, numbers, texts, operators,
//! parentheses and commas, each with the character it starts at.

use crate::error::quoted;

/// The most tokens (names, numbers, texts, operators, parentheses, commas) a condition may
/// have.
pub const MAX_TOKENS: usize = 1024;

/// A token and the character (1-based) it starts at.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) at: usize,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    /// A bare word: a column name, a keyword or a function name.
    Word(String),
    /// A name in double quotes: always a column.
    Quoted(String),
    /// A number.
    Number(f64),
    /// Text in single quotes.
    Text(String),
    /// An operator: `= == != <> < <= > >= + - * / %`.
    Operator(&'static str),
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// `,`.
    Comma,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Word(w) => write!(f, "{}", quoted(w)),
            Kind::Quoted(w) => write!(f, "name {}", quoted(w)),
            Kind::Number(n) => write!(f, "number {n}"),
            Kind::Text(t) => write!(f, "text {}", quoted(t)),
            Kind::Operator(op) => write!(f, "'{op}'"),
            Kind::Open => write!(f, "'('"),
            Kind::Close => write!(f, "')'"),
            Kind::Comma => write!(f, "','"),
        }
    }
}

/// A problem at a character position.
pub(super) type Problem = (usize, String);

/// The operators, longest first so that `<=` is not read as `<` then `=`.
const OPERATORS: [&str; 13] = [
    "==", "!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%",
];

/// Splits `text` into tokens, stopping once there are more than [`MAX_TOKENS`].
pub(super) fn tokenize(text: &str) -> std::result::Result<Vec<Token>, Problem> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if tokens.len() > MAX_TOKENS {
            // Enough to refuse the condition: there is no need to read the rest.
            break;
        }
        let kind = if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Kind::Word(chars[start..i].iter().collect())
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let (value, end) = number(&chars, i)?;
            i = end;
            Kind::Number(value)
        } else if c == '"' || c == '\'' {
            let (content, end) = enclosed(&chars, i)?;
            i = end;
            if c == '"' {
                Kind::Quoted(content)
            } else {
                Kind::Text(content)
            }
        } else if c == '(' || c == ')' || c == ',' {
            i += 1;
            match c {
                '(' => Kind::Open,
                ')' => Kind::Close,
                _ => Kind::Comma,
            }
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            if let Some(hint) = foreign_operator(&rest) {
                return Err((at, hint));
            }
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| {
                    (
                        at,
                        format!("unexpected character {}", quoted(&c.to_string())),
                    )
                })?;
            i += op.chars().count();
            Kind::Operator(op)
        };
        tokens.push(Token { kind, at });
    }
    Ok(tokens)
}

/// The advice for an operator of another language at the start of `rest`.
fn foreign_operator(rest: &str) -> Option<String> {
    let (found, write) = if rest.starts_with("&&") {
        ("&&", "and")
    } else if rest.starts_with("||") {
        ("||", "or")
    } else if rest.starts_with('!') && !rest.starts_with("!=") {
        ("!", "not")
    } else if rest.starts_with('&') {
        ("&", "and")
    } else if rest.starts_with('|') {
        ("|", "or")
    } else {
        return None;
    };
    Some(format!(
        "'{found}' is not an operator here: write '{write}'"
    ))
}

/// The number starting at `chars[start]` and the position after it.
fn number(chars: &[char], start: usize) -> std::result::Result<(f64, usize), Problem> {
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    if chars.get(i) == Some(&'.') {
        i += 1;
        digits(&mut i);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if chars.get(j).is_some_and(char::is_ascii_digit) {
            i = j;
            digits(&mut i);
        }
    }
    // A number runs into a name (`1abc`, `2e`): say so rather than read two tokens.
    let mut end = i;
    while end < chars.len()
        && (chars[end].is_alphanumeric() || chars[end] == '_' || chars[end] == '.')
    {
        end += 1;
    }
    let spelled: String = chars[start..end].iter().collect();
    if end > i {
        return Err((start + 1, format!("{} is not a number", quoted(&spelled))));
    }
    let value: f64 = spelled
        .parse()
        .map_err(|_| (start + 1, format!("{} is not a number", quoted(&spelled))))?;
    if !value.is_finite() {
        return Err((
            start + 1,
            format!("{} is beyond the range of numbers", quoted(&spelled)),
        ));
    }
    Ok((value, i))
}

/// The text between the quote at `chars[start]` and its closing quote (a doubled quote stands
/// for one), and the position after the closing quote.
fn enclosed(chars: &[char], start: usize) -> std::result::Result<(String, usize), Problem> {
    let quote = chars[start];
    let mut content = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                content.push(quote);
                i += 2;
                continue;
            }
            return Ok((content, i + 1));
        }
        content.push(chars[i]);
        i += 1;
    }
    Err((
        start + 1,
        format!("the quote {quote} opened here is never closed"),
    ))
}
