//! The reedline line editor configured for bumplab: history, completion menu on Tab,
//! highlighting, multi-line validation and the prompt.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use reedline::Color;
use reedline::{
    ColumnarMenu, Completer, CompletionResult, Emacs, FileBackedHistory, Highlighter, KeyCode,
    KeyModifiers, MenuBuilder, Prompt, PromptEditMode, PromptHistorySearch,
    PromptHistorySearchStatus, Reedline, ReedlineEvent, ReedlineMenu, Span, StyledText, Suggestion,
    ValidationResult, Validator, default_emacs_keybindings,
};

use crate::script::catalog::Catalog;
use crate::script::complete::{CompletionContext, complete};
use crate::script::input::{TokenKind, is_complete, tokens};

use super::commands::COMMANDS;

/// How many lines the history file keeps.
const HISTORY_CAPACITY: usize = 10_000;

/// The history file: `$BUMPLAB_HISTORY` if set, else `history.txt` in bumplab's folder under
/// the user's data directory.
pub fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BUMPLAB_HISTORY") {
        return Some(PathBuf::from(path));
    }
    dirs::data_dir().map(|dir| dir.join("bumplab").join("history.txt"))
}

/// Whether `path` can serve as the history file: a regular file (or a link to one) whose
/// content fits in memory, or no file yet. A named pipe kept the prompt from ever showing
/// (reading it waited for a writer, deaf to Ctrl-C) and a device never ends.
fn usable_history(path: &Path) -> crate::Result<()> {
    match crate::data::input::open_within_memory(path, 1.0) {
        Err(crate::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(())
        }
        opened => opened.map(drop),
    }
}

/// Builds the line editor. `context` is refreshed by the REPL after every evaluation so that
/// completion sees the session's variables and functions.
pub fn build(catalog: Arc<Catalog>, context: Arc<Mutex<CompletionContext>>) -> Reedline {
    let mut keybindings = default_emacs_keybindings();
    keybindings.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu(MENU.to_string()),
            ReedlineEvent::MenuNext,
        ]),
    );
    let menu = ColumnarMenu::default().with_name(MENU);
    let mut editor = Reedline::create()
        .with_completer(Box::new(ScriptCompleter {
            catalog: catalog.clone(),
            context,
        }))
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu)))
        .with_edit_mode(Box::new(Emacs::new(keybindings)))
        .with_highlighter(Box::new(ScriptHighlighter { catalog }))
        .with_validator(Box::new(ScriptValidator))
        .with_quick_completions(true)
        .with_partial_completions(true);
    if let Some(path) = history_path() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let opened = usable_history(&path)
            .map_err(|err| err.to_string())
            .and_then(|()| {
                FileBackedHistory::with_file(HISTORY_CAPACITY, path.clone())
                    .map_err(|err| format!("cannot use {}: {err}", path.display()))
            });
        match opened {
            Ok(history) => editor = editor.with_history(Box::new(history)),
            Err(err) => eprintln!("warning: history disabled, {err}"),
        }
    }
    editor
}

const MENU: &str = "completion_menu";

struct ScriptCompleter {
    catalog: Arc<Catalog>,
    context: Arc<Mutex<CompletionContext>>,
}

impl Completer for ScriptCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> CompletionResult {
        CompletionResult::fresh(self.suggestions(line, pos))
    }
}

impl ScriptCompleter {
    fn suggestions(&self, line: &str, pos: usize) -> Vec<Suggestion> {
        if line.trim_start().starts_with(':') && !line[..pos].contains(' ') {
            let start = line.find(':').unwrap_or(0);
            return COMMANDS
                .iter()
                .filter(|(name, _)| name.starts_with(&line[start..pos]))
                .map(|(name, about)| suggestion(name, Some(about.to_string()), start, pos))
                .collect();
        }
        let context = self.context.lock().unwrap_or_else(|e| e.into_inner());
        let found = complete(&self.catalog, &context, line, pos);
        found
            .candidates
            .iter()
            .map(|name| {
                let about = self.catalog.lookup(name).first().map(|f| f.summary());
                suggestion(name, about, found.start, found.end)
            })
            .collect()
    }
}

fn suggestion(value: &str, description: Option<String>, start: usize, end: usize) -> Suggestion {
    Suggestion {
        value: value.to_string(),
        description: description.filter(|d| !d.is_empty()),
        span: Span::new(start, end),
        ..Suggestion::default()
    }
}

struct ScriptHighlighter {
    catalog: Arc<Catalog>,
}

impl Highlighter for ScriptHighlighter {
    fn highlight(&self, line: &str, _cursor: usize) -> StyledText {
        let mut styled = StyledText::new();
        if line.trim_start().starts_with(':') {
            styled.push((Color::Yellow.normal(), line.to_string()));
            return styled;
        }
        let builtins = self.catalog.callable_names();
        for token in tokens(line) {
            let text = &line[token.span.clone()];
            let style = match token.kind {
                TokenKind::Keyword => Color::Purple.bold(),
                TokenKind::Identifier if builtins.contains(text) => Color::Cyan.normal(),
                TokenKind::Number => Color::LightBlue.normal(),
                TokenKind::String => Color::Green.normal(),
                TokenKind::Comment => Color::DarkGray.italic(),
                _ => Color::Default.normal(),
            };
            styled.push((style, text.to_string()));
        }
        styled
    }
}

struct ScriptValidator;

impl Validator for ScriptValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        if line.trim_start().starts_with(':') || is_complete(line) {
            ValidationResult::Complete
        } else {
            ValidationResult::Incomplete
        }
    }
}

/// The `bumplab> ` prompt, with `...> ` on continuation lines.
pub struct ReplPrompt;

impl Prompt for ReplPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed("bumplab")
    }

    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }

    fn render_prompt_indicator(&self, _mode: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("> ")
    }

    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed("   ...> ")
    }

    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        let status = match search.status {
            PromptHistorySearchStatus::Passing => "",
            PromptHistorySearchStatus::Failing => "failing ",
        };
        Cow::Owned(format!("({status}reverse-search: {}) ", search.term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_history_file_or_none_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history.txt");
        assert!(usable_history(&file).is_ok());
        std::fs::write(&file, "let x = 1;\n").unwrap();
        assert!(usable_history(&file).is_ok());
        let err = usable_history(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        #[cfg(unix)]
        {
            // BUMPLAB_HISTORY naming a pipe: the REPL never showed its prompt.
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.unwrap().success());
            let err = usable_history(&fifo).unwrap_err().to_string();
            assert!(err.contains("fifo': it is a named pipe"), "{err}");
            let err = usable_history(Path::new("/dev/zero")).unwrap_err();
            assert!(err.to_string().contains("character device"), "{err}");
        }
    }
}
