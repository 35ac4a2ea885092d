//! Tests of the condition language: what parses to what, and the errors.

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
    let deep =
        |open: &str, close: &str, n: usize| format!("{}mjj{} > 0", open.repeat(n), close.repeat(n));
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
