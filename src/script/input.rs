//! Lexical view of Rhai input for interactive front ends: token classes for syntax
//! highlighting and the "is this input complete?" test behind multi-line entry.
//!
//! This is deliberately a tolerant scanner, not a parser: it must work on half-typed input.

use std::ops::Range;

/// Rhai's keywords and keyword-like built-ins, for highlighting and completion.
pub const KEYWORDS: &[&str] = &[
    "as",
    "break",
    "catch",
    "const",
    "continue",
    "do",
    "else",
    "export",
    "false",
    "fn",
    "for",
    "global",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "private",
    "return",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "until",
    "while",
    "Fn",
    "call",
    "curry",
    "type_of",
    "print",
    "debug",
    "eval",
    "is_def_fn",
    "is_def_var",
    "is_shared",
];

/// The class of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A keyword from [`KEYWORDS`].
    Keyword,
    /// Any other identifier.
    Identifier,
    /// An integer or float literal.
    Number,
    /// A string or character literal (possibly unterminated).
    String,
    /// A line or block comment (possibly unterminated).
    Comment,
    /// Brackets, operators and other punctuation.
    Punctuation,
    /// Spaces, tabs and line breaks.
    Whitespace,
}

/// A token: its class and its byte range in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The class.
    pub kind: TokenKind,
    /// Byte range in the scanned text.
    pub span: Range<usize>,
}

/// Splits `text` into tokens covering every byte.
pub fn tokens(text: &str) -> Vec<Token> {
    Scanner::new(text).run().0
}

/// Whether `text` is a complete input: every bracket closed, no unterminated string or block
/// comment. An incomplete line continues on the next one in the REPL and in `is_complete`
/// requests from Jupyter.
pub fn is_complete(text: &str) -> bool {
    let (tokens, open_literal) = Scanner::new(text).run();
    if open_literal {
        return false;
    }
    let mut depth: i64 = 0;
    for token in tokens.iter().filter(|t| t.kind == TokenKind::Punctuation) {
        match &text[token.span.clone()] {
            "(" | "[" | "{" | "#{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            _ => {}
        }
    }
    // A surplus of closing brackets is an error the parser reports; waiting for more input
    // would never fix it.
    depth <= 0
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    open_literal: bool,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            tokens: Vec::new(),
            open_literal: false,
        }
    }

    fn run(mut self) -> (Vec<Token>, bool) {
        while self.pos < self.bytes.len() {
            let start = self.pos;
            let kind = self.next_kind();
            self.tokens.push(Token {
                kind,
                span: start..self.pos,
            });
        }
        (self.tokens, self.open_literal)
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn next_kind(&mut self) -> TokenKind {
        let c = self.bytes[self.pos];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                self.skip_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
                TokenKind::Whitespace
            }
            b'/' if self.peek(1) == Some(b'/') => {
                self.skip_while(|b| b != b'\n');
                TokenKind::Comment
            }
            b'/' if self.peek(1) == Some(b'*') => {
                self.block_comment();
                TokenKind::Comment
            }
            b'"' | b'`' | b'\'' => {
                self.quoted(c);
                TokenKind::String
            }
            b'0'..=b'9' => {
                self.skip_while(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
                TokenKind::Number
            }
            b'#' if self.peek(1) == Some(b'{') => {
                self.pos += 2;
                TokenKind::Punctuation
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                self.skip_while(|b| b.is_ascii_alphanumeric() || b == b'_');
                let word = &self.text[self.tokens_end()..self.pos];
                if KEYWORDS.contains(&word) {
                    TokenKind::Keyword
                } else {
                    TokenKind::Identifier
                }
            }
            _ => {
                // One character, respecting UTF-8 boundaries.
                let len = self.text[self.pos..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
                self.pos += len;
                TokenKind::Punctuation
            }
        }
    }

    fn tokens_end(&self) -> usize {
        self.tokens.last().map_or(0, |t| t.span.end)
    }

    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        while self.pos < self.bytes.len() && keep(self.bytes[self.pos]) {
            self.pos += 1;
        }
    }

    fn block_comment(&mut self) {
        self.pos += 2;
        let mut depth = 1;
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos] == b'/' && self.peek(1) == Some(b'*') {
                depth += 1;
                self.pos += 2;
            } else if self.bytes[self.pos] == b'*' && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
        self.open_literal = true;
    }

    fn quoted(&mut self, quote: u8) {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'\\' => self.pos += 2,
                b if b == quote => {
                    self.pos += 1;
                    return;
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.bytes.len();
        self.open_literal = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_brackets_and_strings_are_incomplete() {
        assert!(is_complete("let x = 2;"));
        assert!(is_complete(""));
        assert!(!is_complete("fn f(a) {"));
        assert!(!is_complete("let y = [1,"));
        assert!(!is_complete("let m = #{ a: 1,"));
        assert!(!is_complete("let s = \"abc"));
        assert!(!is_complete("let s = `multi\nline"));
        assert!(!is_complete("/* comment"));
        assert!(is_complete("fn f(a) {\n a + 1\n}"));
        assert!(is_complete("let s = \"{[(\";"));
        assert!(is_complete("// { in a comment"));
        assert!(is_complete("let s = \"a\\\"b\";"));
        assert!(
            is_complete("x)"),
            "surplus closers are for the parser to report"
        );
    }

    #[test]
    fn tokens_cover_the_input_and_classify() {
        let text = "let x = 4.5; // note\nprint(\"hé\")";
        let toks = tokens(text);
        assert_eq!(toks.first().unwrap().span.start, 0);
        assert_eq!(toks.last().unwrap().span.end, text.len());
        let kind_of = |s: &str| {
            toks.iter()
                .find(|t| &text[t.span.clone()] == s)
                .map(|t| t.kind)
        };
        assert_eq!(kind_of("let"), Some(TokenKind::Keyword));
        assert_eq!(kind_of("x"), Some(TokenKind::Identifier));
        assert_eq!(kind_of("4.5"), Some(TokenKind::Number));
        assert_eq!(kind_of("// note"), Some(TokenKind::Comment));
        assert_eq!(kind_of("\"hé\""), Some(TokenKind::String));
    }
}
