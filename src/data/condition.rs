//! Filter conditions: the SQL-like language of `EventSet::filter`, parsed into a polars
//! expression.
//!
//! ```text
//! mjj > 3000 and tau21_1 < 0.5
//! abs(eta_1 - eta_2) < 1.3 or not (mj1 between 100 and 200)
//! process in (1, 3) and "jet mass" >= 50
//! ```
//!
//! - values: column names (letters, digits and `_`, not starting with a digit; any other name
//!   in double quotes, `""` for a quote in it), numbers (`3`, `2.5e3`, `.5`), text in single
//!   quotes (`'ttbar'`, compared with text columns), `true`, `false`, `null`;
//! - arithmetic `+ - * / %` (numbers are 64-bit floats, so `1 / 2` is 0.5), unary `-`;
//! - comparisons `= == != <> < <= > >=`, `x [not] between a and b` (both ends included),
//!   `x [not] in (a, b, ...)`; comparisons do not chain (`a < b < c` is an error);
//! - `not`, `and`, `or`, with SQL's precedence (not, then and, then or) and parentheses;
//! - functions: `abs sqrt exp ln log10 pow sin cos tan asin acos atan atan2 sinh cosh tanh
//!   floor ceil round sign least greatest` ([`FUNCTIONS`]). Keywords and function names
//!   ignore case.
//!
//! An event for which the condition is `null` (it involves `null`) is not kept, as in SQL.
//!
//! Size limits keep parsing and evaluation fast and their recursion shallow: a condition has
//! at most [`MAX_CHARS`] characters, [`MAX_TOKENS`] tokens (names, numbers, operators,
//! parentheses, commas) and [`MAX_DEPTH`] levels of nesting (parentheses, function calls,
//! `not`, unary minus), and its expression at most [`MAX_NODES`] operations and values once
//! `between`, `in`, `least` and `greatest` have repeated their first value (nesting them
//! doubles the work at each level). The parser is a hand-written recursive descent that never
//! backtracks, so its time is linear in the condition's length.

use polars::prelude::*;

use crate::error::{Error, Result, quoted};

/// The most characters a condition may have.
pub const MAX_CHARS: usize = 4096;

/// The most tokens (names, numbers, texts, operators, parentheses, commas) a condition may
/// have.
pub const MAX_TOKENS: usize = 1024;

/// The deepest nesting of parentheses, function calls, `not` and unary minus a condition may
/// have.
pub const MAX_DEPTH: usize = 32;

/// The most operations and values (counted as polars evaluates them, each repetition
/// counted again) a condition's expression may have.
pub const MAX_NODES: usize = 4096;

/// A function of a condition: one argument or two.
#[derive(Clone, Copy)]
pub enum Function {
    /// `f(x)`.
    One(fn(Expr) -> Expr),
    /// `f(x, y)`.
    Two(fn(Expr, Expr) -> Expr),
}

impl Function {
    fn arity(self) -> usize {
        match self {
            Function::One(_) => 1,
            Function::Two(_) => 2,
        }
    }
}

/// `x` as a 64-bit float, the type the functions compute in.
fn float(x: Expr) -> Expr {
    x.cast(DataType::Float64)
}

/// The functions a condition may call, by name.
pub const FUNCTIONS: &[(&str, Function)] = &[
    ("abs", Function::One(|x| x.abs())),
    ("sqrt", Function::One(|x| float(x).sqrt())),
    ("exp", Function::One(|x| float(x).exp())),
    (
        "ln",
        Function::One(|x| float(x).log(lit(std::f64::consts::E))),
    ),
    ("log10", Function::One(|x| float(x).log(lit(10.0)))),
    ("pow", Function::Two(|x, y| float(x).pow(y))),
    ("sin", Function::One(|x| float(x).sin())),
    ("cos", Function::One(|x| float(x).cos())),
    ("tan", Function::One(|x| float(x).tan())),
    ("asin", Function::One(|x| float(x).arcsin())),
    ("acos", Function::One(|x| float(x).arccos())),
    ("atan", Function::One(|x| float(x).arctan())),
    ("atan2", Function::Two(|y, x| float(y).arctan2(float(x)))),
    ("sinh", Function::One(|x| float(x).sinh())),
    ("cosh", Function::One(|x| float(x).cosh())),
    ("tanh", Function::One(|x| float(x).tanh())),
    ("floor", Function::One(|x| float(x).floor())),
    ("ceil", Function::One(|x| float(x).ceil())),
    (
        "round",
        Function::One(|x| float(x).round(0, RoundMode::HalfAwayFromZero)),
    ),
    // -1, 0 or 1 (NaN stays NaN); polars' own `sign` needs its decimal types compiled in.
    (
        "sign",
        Function::One(|x| {
            let x = float(x);
            when(x.clone().gt(lit(0.0)))
                .then(lit(1.0))
                .when(x.clone().lt(lit(0.0)))
                .then(lit(-1.0))
                .otherwise(x)
        }),
    ),
    (
        "least",
        Function::Two(|x, y| when(x.clone().lt_eq(y.clone())).then(x).otherwise(y)),
    ),
    (
        "greatest",
        Function::Two(|x, y| when(x.clone().gt_eq(y.clone())).then(x).otherwise(y)),
    ),
];

/// A parsed condition.
pub struct Condition {
    /// The condition as a polars expression (true: keep the event).
    pub expr: Expr,
    /// The columns it names, each once, in order of first appearance.
    pub columns: Vec<String>,
}

/// Parses `text` (see the module documentation). Errors are [`Error::InvalidArgument`]s
/// quoting the condition (cut if long) and saying where the problem is.
pub fn parse(text: &str) -> Result<Condition> {
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(invalid(
            text,
            format!("it has {chars} characters; a condition may have at most {MAX_CHARS}"),
        ));
    }
    let tokens = tokenize(text).map_err(|(at, problem)| located(text, at, problem))?;
    if tokens.len() > MAX_TOKENS {
        return Err(invalid(
            text,
            format!(
                "it has more than {MAX_TOKENS} tokens (names, numbers, operators, \
                 parentheses), the most a condition may have"
            ),
        ));
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
        columns: Vec::new(),
        end: chars + 1,
    };
    let expr = parser
        .condition()
        .and_then(|expr| match parser.peek() {
            None => Ok(expr),
            Some(token) => Err((
                token.at,
                format!("unexpected {} after a complete condition", token.kind),
            )),
        })
        .map_err(|(at, problem)| located(text, at, problem))?;
    // The walk stops after MAX_NODES, however large the repetitions make the expression.
    if (&expr).into_iter().take(MAX_NODES + 1).count() > MAX_NODES {
        return Err(invalid(
            text,
            format!(
                "it expands to more than {MAX_NODES} operations and values ('between', 'in', \
                 'least' and 'greatest' repeat their first value); split it into several filters"
            ),
        ));
    }
    Ok(Condition {
        expr,
        columns: parser.columns,
    })
}

/// The error for condition `text`.
pub(crate) fn invalid(text: &str, problem: impl std::fmt::Display) -> Error {
    Error::invalid("filter condition", format!("{}: {problem}", quoted(text)))
}

/// The error for a problem at character `at` (1-based) of `text`.
fn located(text: &str, at: usize, problem: String) -> Error {
    invalid(text, format!("at character {at}: {problem}"))
}

/// A token and the character (1-based) it starts at.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Kind,
    at: usize,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
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
type Problem = (usize, String);

/// The operators, longest first so that `<=` is not read as `<` then `=`.
const OPERATORS: [&str; 13] = [
    "==", "!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%",
];

/// Splits `text` into tokens, stopping once there are more than [`MAX_TOKENS`].
fn tokenize(text: &str) -> std::result::Result<Vec<Token>, Problem> {
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

/// The recursive-descent parser over the tokens.
struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// The current nesting depth (parentheses, calls, `not`, unary minus).
    depth: usize,
    columns: Vec<String>,
    /// The position reported for the end of the condition.
    end: usize,
}

type Parsed = std::result::Result<Expr, Problem>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    /// Whether the next token is the keyword `word` (any case).
    fn at_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    /// Consumes the keyword `word` if it is next.
    fn keyword(&mut self, word: &str) -> bool {
        let found = self.at_keyword(word);
        if found {
            self.next += 1;
        }
        found
    }

    /// Consumes the next token, which must be `kind`; `what` names it for the error.
    fn expect(&mut self, kind: &Kind, what: &str) -> std::result::Result<(), Problem> {
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
    fn nested(&mut self, at: usize, parse: impl FnOnce(&mut Self) -> Parsed) -> Parsed {
        if self.depth >= MAX_DEPTH {
            return Err((at, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    /// `or`: the whole condition.
    fn condition(&mut self) -> Parsed {
        let mut expr = self.conjunction()?;
        while self.keyword("or") {
            expr = expr.or(self.conjunction()?);
        }
        Ok(expr)
    }

    /// `and`.
    fn conjunction(&mut self) -> Parsed {
        let mut expr = self.negation()?;
        while self.keyword("and") {
            expr = expr.and(self.negation()?);
        }
        Ok(expr)
    }

    /// `not`.
    fn negation(&mut self) -> Parsed {
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
    fn comparison(&mut self) -> Parsed {
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
    fn comparison_operator(&self) -> Option<&'static str> {
        match self.peek() {
            Some(Token {
                kind: Kind::Operator(op),
                ..
            }) if matches!(*op, "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") => Some(op),
            _ => None,
        }
    }

    /// `(a, b, ...)` after `in`: `left` equal to one of them.
    fn in_list(&mut self, left: Expr) -> Parsed {
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
    fn sum(&mut self) -> Parsed {
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
    fn product(&mut self) -> Parsed {
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
    fn operator(&mut self, ops: &[&str]) -> Option<&'static str> {
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
    fn unary(&mut self) -> Parsed {
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
    fn primary(&mut self) -> Parsed {
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
    fn word(&mut self, word: String, at: usize) -> Parsed {
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
    fn call(&mut self, word: &str, lower: &str, at: usize) -> Parsed {
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

    /// A reference to column `name`, remembered in [`Condition::columns`].
    fn column(&mut self, name: String) -> Expr {
        if !self.columns.contains(&name) {
            self.columns.push(name.clone());
        }
        col(name)
    }

    /// Where the next token is and what it is, for an error.
    fn found(&self) -> (usize, String) {
        match self.peek() {
            Some(token) => (token.at, token.kind.to_string()),
            None => (self.end, "the end of the condition".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("{text:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn columns_are_collected_once_in_order() {
        let c = parse("b > 1 and (a < 2 or \"b\" = 3) and \"x y\" between a and 4").unwrap();
        assert_eq!(c.columns, ["b", "a", "x y"]);
        assert!(parse("true").unwrap().columns.is_empty());
    }

    #[test]
    fn syntax_errors_say_where_and_what() {
        for (text, expected) in [
            (
                "mjj >",
                "at character 6: expected a value, found the end of the condition",
            ),
            (
                "mjj > 1 &&  x",
                "at character 9: '&&' is not an operator here: write 'and'",
            ),
            ("a || b", "'||' is not an operator here: write 'or'"),
            ("!a", "'!' is not an operator here: write 'not'"),
            ("a < b < c", "comparisons do not chain ('<' then '<')"),
            ("(a > 1", "expected ')', found the end of the condition"),
            (
                "a > 1)",
                "at character 6: unexpected ')' after a complete condition",
            ),
            (
                "a between 1 or 2",
                "expected 'and' in 'between ... and ...', found 'or'",
            ),
            ("a not 1", "expected 'between' or 'in' after 'not'"),
            ("a in 1", "expected '(' after 'in', found number 1"),
            (
                "foo(a) > 1",
                "unknown function 'foo'; the functions are abs, sqrt",
            ),
            ("pow(a) > 1", "pow takes 2 arguments"),
            ("abs(a, b) > 1", "abs takes 1 argument"),
            ("a > 1abc", "at character 5: '1abc' is not a number"),
            ("a > 1e999", "'1e999' is beyond the range of numbers"),
            (
                "a = 'open",
                "at character 5: the quote ' opened here is never closed",
            ),
            ("a # 1", "unexpected character '#'"),
            (
                "and > 1",
                "found the keyword 'and'; a column of that name is written in double quotes",
            ),
            ("", "expected a value, found the end of the condition"),
        ] {
            let err = error(text);
            assert!(
                err.starts_with("invalid filter condition: '"),
                "{text}: {err}"
            );
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn long_conditions_are_refused_before_parsing_and_quoted_briefly() {
        let long = format!("mjj > 0{}", " and mjj > 0".repeat(100_000));
        let err = error(&long);
        assert!(err.len() < 300, "{} bytes: {}", err.len(), &err[..300]);
        assert!(
            err.contains("characters; a condition may have at most 4096"),
            "{err}"
        );
        let many = format!("m{}", "+m".repeat(MAX_TOKENS / 2));
        assert!(many.len() < MAX_CHARS);
        let err = error(&many);
        assert!(err.contains("more than 1024 tokens"), "{err}");
        let just = format!("m{} > 0", "+m".repeat((MAX_TOKENS - 3) / 2));
        assert!(parse(&just).is_ok());
    }

    #[test]
    fn nesting_is_limited_in_every_form() {
        let deep = |open: &str, close: &str, n: usize| {
            format!("{}mjj{} > 0", open.repeat(n), close.repeat(n))
        };
        for (open, close) in [("(", ")"), ("abs(", ")"), ("-", "")] {
            assert!(parse(&deep(open, close, MAX_DEPTH)).is_ok(), "{open}");
            let err = error(&deep(open, close, MAX_DEPTH + 1));
            assert!(
                err.contains("nested more than 32 levels deep"),
                "{open}: {err}"
            );
        }
        let nots = format!("{}mjj > 0", "not ".repeat(MAX_DEPTH + 1));
        assert!(error(&nots).contains("nested more than 32 levels deep"));
        // A syntax error at the bottom of deep nesting is found at once (polars' SQL parser,
        // which backtracks, took 0.5 s at 18 levels and doubled with each more).
        let half = MAX_DEPTH / 2;
        let err = error(&format!(
            "{}mjj >{}",
            "not (".repeat(half),
            ")".repeat(half)
        ));
        assert!(err.contains("expected a value, found ')'"), "{err}");
    }

    #[test]
    fn repeated_values_cannot_expand_a_condition_exponentially() {
        // Found in review: each nested 'least' or 'between' doubled polars' work, and 20
        // levels (60 tokens) took over a minute to evaluate on ten events.
        for (open, close) in [
            ("least(", ", 1)"),
            ("(", " between 0 and 1)"),
            ("(", " in (1, 2))"),
        ] {
            let nested = format!("{}mjj{} > 0", open.repeat(20), close.repeat(20));
            let err = error(&nested);
            assert!(
                err.contains("expands to more than 4096 operations"),
                "{open}: {err}"
            );
            assert!(err.len() < 400, "{err}");
            assert!(parse(&format!("{}mjj{} > 0", open.repeat(5), close.repeat(5))).is_ok());
        }
        // The longest flat lists and chains stay within the limit.
        let items: Vec<String> = (0..500).map(|i| i.to_string()).collect();
        assert!(parse(&format!("abs(a - b) in ({})", items.join(", "))).is_ok());
        assert!(parse(&format!("a > 0{}", " and a between 0 and 1".repeat(120))).is_ok());
    }
}
