//! Resolution of `import "name"`: a script shipped in `stdlib/`, or a file relative to the
//! importing script (the working directory in the REPL).

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use rhai::module_resolvers::ModuleResolver;
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};

use super::stdlib;

/// The module resolver installed in every session's engine.
///
/// A bare name (`import "arrays"`) is looked up among the shipped scripts first; anything else,
/// or a name no shipped script has, is a file path, relative to the directory of the importing
/// script, with `.rhai` added when it has no extension.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScriptResolver;

impl ModuleResolver for ScriptResolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let is_bare_name = !path.contains(['/', '\\']) && !path.ends_with(".rhai");
        let (text, origin) = match stdlib::get(path).filter(|_| is_bare_name) {
            Some(text) => (text.to_string(), format!("stdlib/{path}.rhai")),
            None => {
                let file = file_path(source, path);
                let text = crate::data::input::read_text(&file).map_err(|err| {
                    let what = match &err {
                        crate::Error::Io { source, .. }
                            if source.kind() == std::io::ErrorKind::NotFound =>
                        {
                            format!(
                                "{path} (no shipped script of that name, and no file {})",
                                file.display()
                            )
                        }
                        _ => format!("{path} ({err})"),
                    };
                    Box::new(EvalAltResult::ErrorModuleNotFound(what, pos))
                })?;
                (text, file.display().to_string())
            }
        };
        let _importing = ImportGuard::enter(&origin, pos)?;
        let in_module = |err: Box<EvalAltResult>| {
            Box::new(EvalAltResult::ErrorInModule(origin.clone(), err, pos))
        };
        let mut ast = engine.compile(text).map_err(|e| in_module(e.into()))?;
        ast.set_source(origin.as_str());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        Ok(module.into())
    }
}

thread_local! {
    /// The scripts being imported on this thread, outermost first.
    static IMPORTING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Marks `origin` as being imported while alive; refuses an import cycle.
struct ImportGuard;

impl ImportGuard {
    /// Enters the import of `origin` (a shipped script's name or a file path), or fails when
    /// `origin` is already being imported further out (a script importing itself, directly or
    /// through others).
    fn enter(origin: &str, pos: Position) -> Result<Self, Box<EvalAltResult>> {
        let key = std::fs::canonicalize(origin)
            .map_or_else(|_| origin.to_string(), |p| p.display().to_string());
        IMPORTING.with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(first) = stack.iter().position(|open| *open == key) {
                let mut chain: Vec<&str> = stack[first..].iter().map(String::as_str).collect();
                chain.push(&key);
                return Err(Box::new(EvalAltResult::ErrorRuntime(
                    format!("import cycle: {}", chain.join(" imports ")).into(),
                    pos,
                )));
            }
            stack.push(key);
            Ok(ImportGuard)
        })
    }
}

impl Drop for ImportGuard {
    fn drop(&mut self) {
        IMPORTING.with(|stack| stack.borrow_mut().pop());
    }
}

/// The file an import of `path` from the script `source` refers to.
fn file_path(source: Option<&str>, path: &str) -> PathBuf {
    let mut file = PathBuf::from(path);
    if file.extension().is_none() {
        file.set_extension("rhai");
    }
    if file.is_absolute() {
        return file;
    }
    let base = source
        .map(Path::new)
        .and_then(Path::parent)
        .filter(|dir| !dir.as_os_str().is_empty());
    match base {
        Some(dir) => dir.join(file),
        None => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports_follow_the_importing_script() {
        assert_eq!(
            file_path(Some("analysis/main.rhai"), "steps"),
            PathBuf::from("analysis/steps.rhai")
        );
        assert_eq!(
            file_path(Some("main.rhai"), "lib/steps.rhai"),
            PathBuf::from("lib/steps.rhai")
        );
        assert_eq!(file_path(None, "steps"), PathBuf::from("steps.rhai"));
        assert_eq!(
            file_path(Some("a/b.rhai"), "/abs/x"),
            PathBuf::from("/abs/x.rhai")
        );
    }
}
