//! The recursive-descent parser from tokens to a polars expression, bounded in depth.

use polars::prelude::*;

use super::functions::{FUNCTIONS, Function};
use super::lexer::{Kind, Problem, Token};
use crate::error::quoted;

/// The deepest nesting of parentheses, function calls, `not` and unary minus a condition may
/// have.
pub const MAX_DEPTH: usize = 32;

/// The recursive-descent parser over the tokens.
pub(super) struct Parser {
    pub(super) tokens: Vec<Token>,
    pub(super) next: usize,
    /// The current nesting depth (parentheses, calls, `not`, unary minus).
    pub(super) depth: usize,
    pub(super) columns: Vec<String>,
    /// The position reported for the end of the condition.
    pub(super) end: usize,
}

type Parsed = std::result::Result<Expr, Problem>;

impl Parser {
    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    pub(super) fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    /// Whether the next token is the keyword `word` (any case).
    pub(super) fn at_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    /// Consumes the keyword `word` if it is next.
    pub(super) fn keyword(&mut self, word: &str) -> bool {
        let found = self.at_keyword(word);
        if found {
            self.next += 1;
        }
        found
    }

    /// Consumes the next token, which must be `kind`; `what` names it for the error.
    pub(super) fn expect(&mut self, kind: &Kind, what: &str) -> std::result::Result<(), Problem> {
        match self.advance() {
            Some(token) if token.kind == *kind => Ok(()),
            Some(token) => Err((token.at, format!("expected {what}, found {}", token.kind))),
            None => Err((
                self.end,
                format!("expected {what}, found the end of the condition"),
            )),
        }
    }

    /// Runs `parse` one nesting level deeper; `at` is where the nesting starts.
    pub(super) fn nested(&mut self, at: usize, parse: impl FnOnce(&mut Self) -> Parsed) -> Parsed {
        if self.depth >= MAX_DEPTH {
            return Err((at, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    /// `or`: the whole condition.
    pub(super) fn condition(&mut self) -> Parsed {
        let mut expr = self.conjunction()?;
        while self.keyword("or") {
            expr = expr.or(self.conjunction()?);
        }
        Ok(expr)
    }

    /// `and`.
    pub(super) fn conjunction(&mut self) -> Parsed {
        let mut expr = self.negation()?;
        while self.keyword("and") {
            expr = expr.and(self.negation()?);
        }
        Ok(expr)
    }

    /// `not`.
    pub(super) fn negation(&mut self) -> Parsed {
        match self.peek() {
            Some(token) if self.at_keyword("not") => {
                let at = token.at;
                self.next += 1;
                Ok(self.nested(at, Self::negation)?.not())
            }
            _ => self.comparison(),
        }
    }

    /// A comparison, `between`, `in`, or a plain value.
    pub(super) fn comparison(&mut self) -> Parsed {
        let left = self.sum()?;
        let negated = self.keyword("not");
        if self.keyword("between") {
            let low = self.sum()?;
            if !self.keyword("and") {
                let (at, found) = self.found();
                return Err((
                    at,
                    format!("expected 'and' in 'between ... and ...', found {found}"),
                ));
            }
            let high = self.sum()?;
            let inside = left.clone().gt_eq(low).and(left.lt_eq(high));
            return Ok(if negated { inside.not() } else { inside });
        }
        if self.keyword("in") {
            let at = self.peek().map_or(self.end, |t| t.at);
            let listed = self.nested(at, |p| p.in_list(left))?;
            return Ok(if negated { listed.not() } else { listed });
        }
        if negated {
            let (at, found) = self.found();
            return Err((
                at,
                format!("expected 'between' or 'in' after 'not', found {found}"),
            ));
        }
        let Some(op) = self.comparison_operator() else {
            return Ok(left);
        };
        self.next += 1;
        let right = self.sum()?;
        if let Some(again) = self.comparison_operator() {
            let at = self.tokens[self.next].at;
            return Err((
                at,
                format!(
                    "comparisons do not chain ('{op}' then '{again}'): write 'a < b and b < c'"
                ),
            ));
        }
        Ok(match op {
            "=" | "==" => left.eq(right),
            "!=" | "<>" => left.neq(right),
            "<" => left.lt(right),
            "<=" => left.lt_eq(right),
            ">" => left.gt(right),
            _ => left.gt_eq(right),
        })
    }

    /// The comparison operator that is the next token, if it is one.
    pub(super) fn comparison_operator(&self) -> Option<&'static str> {
        match self.peek() {
            Some(Token {
                kind: Kind::Operator(op),
                ..
            }) if matches!(*op, "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") => Some(op),
            _ => None,
        }
    }

    /// `(a, b, ...)` after `in`: `left` equal to one of them.
    pub(super) fn in_list(&mut self, left: Expr) -> Parsed {
        self.expect(&Kind::Open, "'(' after 'in'")?;
        let mut any = left.clone().eq(self.sum()?);
        while matches!(
            self.peek(),
            Some(Token {
                kind: Kind::Comma,
                ..
            })
        ) {
            self.next += 1;
            any = any.or(left.clone().eq(self.sum()?));
        }
        self.expect(&Kind::Close, "',' or ')' in the list after 'in'")?;
        Ok(any)
    }

    /// `+` and `-`.
    pub(super) fn sum(&mut self) -> Parsed {
        let mut expr = self.product()?;
        while let Some(op) = self.operator(&["+", "-"]) {
            let right = self.product()?;
            expr = if op == "+" {
                expr + right
            } else {
                expr - right
            };
        }
        Ok(expr)
    }

    /// `*`, `/` and `%`.
    pub(super) fn product(&mut self) -> Parsed {
        let mut expr = self.unary()?;
        while let Some(op) = self.operator(&["*", "/", "%"]) {
            let right = self.unary()?;
            expr = match op {
                "*" => expr * right,
                "/" => expr / right,
                _ => expr % right,
            };
        }
        Ok(expr)
    }

    /// Consumes the next token if it is one of the operators `ops`.
    pub(super) fn operator(&mut self, ops: &[&str]) -> Option<&'static str> {
        match self.peek() {
            Some(Token {
                kind: Kind::Operator(op),
                ..
            }) if ops.contains(op) => {
                let op = *op;
                self.next += 1;
                Some(op)
            }
            _ => None,
        }
    }

    /// Unary minus and plus.
    pub(super) fn unary(&mut self) -> Parsed {
        match self.peek() {
            Some(Token {
                kind: Kind::Operator(op @ ("-" | "+")),
                at,
            }) => {
                let (minus, at) = (*op == "-", *at);
                self.next += 1;
                let value = self.nested(at, Self::unary)?;
                Ok(if minus { lit(0.0) - value } else { value })
            }
            _ => self.primary(),
        }
    }

    /// A value: a number, text, a name, a function call, or a condition in parentheses.
    pub(super) fn primary(&mut self) -> Parsed {
        let Some(token) = self.advance() else {
            return Err((
                self.end,
                "expected a value, found the end of the condition".into(),
            ));
        };
        match token.kind {
            Kind::Number(value) => Ok(lit(value)),
            Kind::Text(text) => Ok(lit(text)),
            Kind::Quoted(name) => Ok(self.column(name)),
            Kind::Open => self.nested(token.at, |p| {
                let inner = p.condition()?;
                p.expect(&Kind::Close, "')'")?;
                Ok(inner)
            }),
            Kind::Word(word) => self.word(word, token.at),
            other => Err((token.at, format!("expected a value, found {other}"))),
        }
    }

    /// A bare word in value position: a constant, a function call or a column.
    pub(super) fn word(&mut self, word: String, at: usize) -> Parsed {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "true" => return Ok(lit(true)),
            "false" => return Ok(lit(false)),
            "null" => return Ok(lit(Null {})),
            "and" | "or" | "not" | "between" | "in" => {
                return Err((
                    at,
                    format!(
                        "expected a value, found the keyword {}; a column of that name is \
                         written in double quotes",
                        quoted(&word)
                    ),
                ));
            }
            _ => {}
        }
        if matches!(
            self.peek(),
            Some(Token {
                kind: Kind::Open,
                ..
            })
        ) {
            self.next += 1;
            return self.nested(at, |p| p.call(&word, &lower, at));
        }
        Ok(self.column(word))
    }

    /// The rest of a call of function `word` after its `(`.
    pub(super) fn call(&mut self, word: &str, lower: &str, at: usize) -> Parsed {
        let Some(&(name, function)) = FUNCTIONS.iter().find(|(name, _)| *name == lower) else {
            let names: Vec<&str> = FUNCTIONS.iter().map(|(name, _)| *name).collect();
            return Err((
                at,
                format!(
                    "unknown function {}; the functions are {}",
                    quoted(word),
                    names.join(", ")
                ),
            ));
        };
        let mut args = vec![self.condition()?];
        while matches!(
            self.peek(),
            Some(Token {
                kind: Kind::Comma,
                ..
            })
        ) {
            self.next += 1;
            args.push(self.condition()?);
        }
        self.expect(&Kind::Close, "',' or ')'")?;
        let mut args = args.into_iter();
        match (function, args.next(), args.next(), args.next()) {
            (Function::One(f), Some(x), None, None) => Ok(f(x)),
            (Function::Two(f), Some(x), Some(y), None) => Ok(f(x, y)),
            _ => {
                let arity = function.arity();
                let plural = if arity == 1 { "" } else { "s" };
                Err((at, format!("{name} takes {arity} argument{plural}")))
            }
        }
    }

    /// A reference to column `name`, remembered in [`Condition::columns`](super::Condition::columns).
    pub(super) fn column(&mut self, name: String) -> Expr {
        if !self.columns.contains(&name) {
            self.columns.push(name.clone());
        }
        col(name)
    }

    /// Where the next token is and what it is, for an error.
    pub(super) fn found(&self) -> (usize, String) {
        match self.peek() {
            Some(token) => (token.at, token.kind.to_string()),
            None => (self.end, "the end of the condition".to_string()),
        }
    }
}
