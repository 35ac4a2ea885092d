//! Tab completion shared by the REPL and the Jupyter kernel: built-in names, keywords,
//! variables and functions defined in the session, and methods after `value.` chosen by the
//! value's type.

use std::collections::BTreeSet;

use super::catalog::Catalog;
use super::input::KEYWORDS;

/// What the session has defined, as completion needs it.
#[derive(Clone, Debug, Default)]
pub struct CompletionContext {
    /// Variables in scope as `(name, canonical type)` (see [`super::catalog::canonical_type`]).
    pub variables: Vec<(String, String)>,
    /// Names of functions the user defined with `fn`.
    pub functions: Vec<String>,
}

/// The result of a completion request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completions {
    /// Byte offset where the replaced word starts.
    pub start: usize,
    /// Byte offset where it ends (the cursor).
    pub end: usize,
    /// Candidate replacements, sorted.
    pub candidates: Vec<String>,
}

/// Completes the word before byte offset `cursor` in `line`.
pub fn complete(
    catalog: &Catalog,
    ctx: &CompletionContext,
    line: &str,
    cursor: usize,
) -> Completions {
    let cursor = cursor.min(line.len());
    let before = &line[..cursor];
    let start = cursor - trailing_identifier(before).len();
    let prefix = &line[start..cursor];
    let pool: BTreeSet<String> = match before[..start].strip_suffix('.') {
        Some(receiver_text) => {
            let receiver = trailing_identifier(receiver_text);
            let receiver_type = ctx
                .variables
                .iter()
                .find(|(name, _)| name == receiver)
                .map(|(_, ty)| ty.as_str());
            catalog.methods_of(receiver_type)
        }
        None => {
            let mut pool: BTreeSet<String> = catalog
                .callable_names()
                .into_iter()
                .map(str::to_string)
                .collect();
            pool.extend(KEYWORDS.iter().map(|k| k.to_string()));
            pool.extend(ctx.variables.iter().map(|(name, _)| name.clone()));
            pool.extend(ctx.functions.iter().cloned());
            pool
        }
    };
    let candidates = pool.into_iter().filter(|c| c.starts_with(prefix)).collect();
    Completions {
        start,
        end: cursor,
        candidates,
    }
}

/// The identifier around byte offset `cursor` of `text` (`""` if none): what the kernel's
/// `inspect` looks up.
pub fn word_at(text: &str, cursor: usize) -> &str {
    let cursor = cursor.min(text.len());
    let start = cursor - trailing_identifier(&text[..cursor]).len();
    let end = text[cursor..]
        .find(|c: char| !is_identifier_char(c))
        .map_or(text.len(), |i| cursor + i);
    &text[start..end]
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn trailing_identifier(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_identifier_char(c))
        .last()
        .map_or(text.len(), |(i, _)| i);
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Session;

    #[test]
    fn word_at_finds_the_identifier_under_the_cursor() {
        assert_eq!(word_at("x = lhco_toy(#{})", 6), "lhco_toy");
        assert_eq!(word_at("bump_hunter", 11), "bump_hunter");
        assert_eq!(word_at("a + b", 2), "");
    }

    fn complete_in(session: &Session, line: &str) -> Completions {
        complete(
            session.catalog(),
            &session.completion_context(),
            line,
            line.len(),
        )
    }

    #[test]
    fn completes_builtins_keywords_and_variables() {
        let mut session = Session::with_output(std::sync::Arc::new(|_: &str| {}));
        let _ = session
            .eval(
                "<test>",
                "let signal_eff = 0.5; fn significance(s, b) { s / b }",
            )
            .unwrap();
        let c = complete_in(&session, "ver");
        assert_eq!(c.start, 0);
        assert!(c.candidates.contains(&"version".to_string()));
        assert!(
            complete_in(&session, "whi")
                .candidates
                .contains(&"while".to_string())
        );
        assert!(
            complete_in(&session, "print(sig")
                .candidates
                .contains(&"signal_eff".to_string())
        );
        assert!(
            complete_in(&session, "x = signif")
                .candidates
                .contains(&"significance".to_string())
        );
    }

    #[test]
    fn methods_follow_the_receiver_type() {
        let mut session = Session::with_output(std::sync::Arc::new(|_: &str| {}));
        let _ = session
            .eval("<test>", "let xs = [1, 2]; let s = \"abc\";")
            .unwrap();
        let c = complete_in(&session, "xs.pu");
        assert_eq!(c.candidates, vec!["push".to_string()]);
        let c = complete_in(&session, "s.to_up");
        assert_eq!(c.candidates, vec!["to_upper".to_string()]);
        assert!(
            !complete_in(&session, "s.")
                .candidates
                .contains(&"sort".to_string())
        );
        assert!(
            complete_in(&session, "xs.")
                .candidates
                .contains(&"len".to_string())
        );
    }
}
