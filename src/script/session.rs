//! A scripting session: the Rhai engine with every domain registered, the persistent scope
//! and script-defined functions, the session state and the evaluation boundary (errors with
//! positions, panics caught, Ctrl-C honoured).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex, Once};

use rhai::{AST, Dynamic, Engine, Scope, Shared};

use super::catalog::{Catalog, canonical_type};
use super::complete::CompletionContext;
use super::domain::Domain;
use super::errors::ScriptError;
use super::inline;
use super::resolver::ScriptResolver;
use super::stack;
use super::state::{Display, Output, SessionState, StateTag, stdout_output};
use super::{anomaly, core, events, methods, metrics, nn, plot, samples, stats};
use crate::interrupt::Interrupt;
use crate::seed::SeedSequence;

/// Every domain, in the order `help()` lists them.
pub const DOMAINS: &[Domain] = &[
    core::DOMAIN,
    events::DOMAIN,
    samples::DOMAIN,
    stats::DOMAIN,
    metrics::DOMAIN,
    nn::DOMAIN,
    methods::DOMAIN,
    anomaly::DOMAIN,
    plot::DOMAIN,
];

/// A variable in the session scope, as `:vars` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its Rhai type name.
    pub type_name: String,
    /// Its value, shortened to one line.
    pub preview: String,
}

/// An interactive or scripted bumplab session.
pub struct Session {
    engine: Engine,
    scope: Scope<'static>,
    functions: AST,
    state: Arc<SessionState>,
    accepted: Vec<String>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session printing to standard output.
    pub fn new() -> Self {
        Self::with_output(stdout_output())
    }

    /// A session sending `print` and `help` text to `output`.
    pub fn with_output(output: Output) -> Self {
        Self::with_sinks(output, None)
    }

    /// A session sending text to `output` and figures drawn without a path to `display`
    /// (a notebook kernel; without one, plot calls need a path).
    pub fn with_sinks(output: Output, display: Option<Display>) -> Self {
        install_panic_hook();
        let mut engine = Engine::new();
        engine.set_fail_on_invalid_map_property(true);
        super::limits::apply(&mut engine);
        engine.set_module_resolver(ScriptResolver);
        let modules: Vec<_> = DOMAINS
            .iter()
            .map(|domain| (domain, Shared::new((domain.module)())))
            .collect();
        for (_, module) in &modules {
            engine.register_global_module(module.clone());
        }
        let catalog = Arc::new(Catalog::new(&modules, &engine));
        inline::register(&mut engine, &catalog);
        let interrupt = Interrupt::new();
        let state = Arc::new(SessionState {
            seeds: Mutex::new(SeedSequence::default()),
            interrupt: interrupt.clone(),
            catalog,
            output: output.clone(),
            display,
            inline_svg: Default::default(),
            device: Mutex::new(candle_core::Device::Cpu),
        });
        engine.set_default_tag(Dynamic::from(StateTag(state.clone())));
        engine.on_print(move |text| output(text));
        let debug_output = state.output.clone();
        engine.on_debug(move |text, source, pos| {
            let at = match (source, pos.line()) {
                (Some(src), Some(line)) => format!("{src}:{line}: "),
                (None, Some(line)) => format!("{line}: "),
                _ => String::new(),
            };
            debug_output(&format!("{at}{text}"));
        });
        engine.on_progress(move |_| {
            if stack::nearly_exhausted() {
                return Some(Dynamic::from(stack::TooDeep));
            }
            interrupt
                .is_triggered()
                .then(|| Dynamic::from("interrupted"))
        });
        let mut scope = Scope::new();
        scope.push_constant("ARGS", rhai::Array::new());
        Self {
            engine,
            scope,
            functions: AST::empty(),
            state,
            accepted: Vec::new(),
        }
    }

    /// Makes `args` available to scripts as the constant array `ARGS`.
    pub fn set_args(&mut self, args: Vec<String>) {
        let args: rhai::Array = args.into_iter().map(Dynamic::from).collect();
        self.scope.set_or_push("ARGS", args);
    }

    /// Sets the session seed, as `seed(n)` does.
    pub fn set_seed(&self, seed: u64) {
        self.state
            .seeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reseed(seed);
    }

    /// Moves the session's later tensor work to the device `name` ("cpu", "cuda", "cuda:N"),
    /// as `device(name)` does; an unknown name, a build without the `cuda` feature or a GPU
    /// that cannot be opened is an error and the device stays as it was.
    pub fn set_device(&self, name: &str) -> crate::error::Result<()> {
        self.state
            .set_device(crate::nn::device::parse_device(name)?);
        Ok(())
    }

    /// The current session seed.
    pub fn seed(&self) -> u64 {
        self.state
            .seeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seed()
    }

    /// The session's interrupt flag: trigger it (from a Ctrl-C handler or another thread) to
    /// stop the running evaluation; the session stays usable.
    pub fn interrupt(&self) -> Interrupt {
        self.state.interrupt.clone()
    }

    /// The state shared with built-ins.
    pub fn state(&self) -> &Arc<SessionState> {
        &self.state
    }

    /// Names and documentation of every built-in.
    pub fn catalog(&self) -> &Catalog {
        &self.state.catalog
    }

    /// The engine, for embedders registering functions of their own.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Evaluates `code` (named `source` in error messages) in the session: variables and
    /// functions it defines stay available to later evaluations. Returns the value of the last
    /// expression (unit for statements).
    pub fn eval(&mut self, source: &str, code: &str) -> Result<Dynamic, ScriptError> {
        self.state.interrupt.clear();
        if let Some(imports) = whole_line_imports(code) {
            return self.import_into_session(source, &imports, code);
        }
        let (engine, scope, functions) = (&self.engine, &mut self.scope, &mut self.functions);
        let outcome = on_eval_thread(source, || {
            let mut ast = engine
                .compile_with_scope(scope, code)
                .map_err(|err| ScriptError::from_parse(source, &err))?;
            ast.set_source(source);
            // Functions defined by a line stay defined even when the rest of it fails.
            *functions = functions.merge(&ast.clone_functions_only());
            let program = functions.merge(&ast);
            let outcome =
                match catch_panic(|| engine.eval_ast_with_scope::<Dynamic>(scope, &program)) {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(err)) => Err(ScriptError::from_eval(source, &err)),
                    Err(message) => Err(ScriptError::from_panic(source, &message)),
                };
            // The next evaluation runs on another thread: the GPU work queued on this one must
            // be finished first (see `nn::device`).
            match (outcome, crate::nn::device::synchronize_all()) {
                (Ok(_), Err(err)) => Err(ScriptError {
                    kind: super::errors::ErrorKind::Runtime,
                    message: format!("{source}: {err}"),
                    location: None,
                    call_chain: Vec::new(),
                }),
                (outcome, _) => outcome,
            }
        })?;
        let value = outcome?;
        self.accepted.push(code.to_string());
        Ok(value)
    }

    /// Runs the script file `path` in the session (its variables and functions stay defined),
    /// with imports resolved relative to it.
    pub fn run_file(&mut self, path: &Path) -> Result<Dynamic, ScriptError> {
        let name = path.display().to_string();
        let code = std::fs::read_to_string(path).map_err(|err| ScriptError {
            kind: super::errors::ErrorKind::Runtime,
            message: crate::Error::io("read", path, err).to_string(),
            location: None,
            call_chain: Vec::new(),
        })?;
        self.eval(&name, &code)
    }

    /// The inputs evaluated successfully so far, in order (what `:save` writes).
    pub fn accepted_inputs(&self) -> &[String] {
        &self.accepted
    }

    /// The variables in scope, in definition order.
    pub fn variables(&self) -> Vec<Variable> {
        self.scope
            .iter_raw()
            .map(|(name, _, value)| {
                let mut preview = self.display(value).replace('\n', " ");
                if preview.chars().count() > 60 {
                    preview = preview.chars().take(57).collect::<String>() + "...";
                }
                Variable {
                    name: name.to_string(),
                    type_name: self.engine.map_type_name(value.type_name()).to_string(),
                    preview,
                }
            })
            .collect()
    }

    /// `value` as the REPL shows it: strings quoted, everything else through its `to_string`.
    pub fn display(&self, value: &Dynamic) -> String {
        if value.is_string() {
            return format!("{:?}", value.to_string());
        }
        // `to_string` through a script call, so that the built-ins' and the user's own
        // `to_string` overloads are both found (`Engine::call_fn` sees script functions only).
        let (engine, functions) = (&self.engine, &self.functions);
        let shown = stack::run(|| {
            let mut scope = Scope::new();
            scope.push("value", value.clone());
            let call = engine.compile("to_string(value)").ok()?;
            let program = functions.merge(&call);
            catch_panic(|| engine.eval_ast_with_scope::<String>(&mut scope, &program))
                .ok()?
                .ok()
        });
        shown.ok().flatten().unwrap_or_else(|| value.to_string())
    }

    /// An HTML view of `value` for notebooks, for the values that have one: event sets
    /// (a table of the first rows) and descriptions.
    pub fn html(&self, value: &Dynamic) -> Option<String> {
        use crate::display::Rich;
        let representations = if let Some(events) = value.read_lock::<crate::data::EventSet>() {
            events.representations()
        } else if let Some(d) = value.read_lock::<crate::data::describe::Description>() {
            d.representations()
        } else {
            return None;
        };
        representations
            .ok()?
            .into_iter()
            .find_map(|(mime, content)| (mime == "text/html").then_some(content))
    }

    /// What completion needs to know about the session.
    pub fn completion_context(&self) -> CompletionContext {
        CompletionContext {
            variables: self
                .scope
                .iter_raw()
                .map(|(name, _, value)| {
                    (
                        name.to_string(),
                        canonical_type(self.engine.map_type_name(value.type_name())),
                    )
                })
                .collect(),
            functions: self
                .functions
                .iter_functions()
                .map(|f| f.name.to_string())
                .collect(),
        }
    }

    fn import_into_session(
        &mut self,
        source: &str,
        imports: &[(String, String)],
        code: &str,
    ) -> Result<Dynamic, ScriptError> {
        use rhai::module_resolvers::ModuleResolver;
        for (path, alias) in imports {
            let engine = &self.engine;
            let module = on_eval_thread(source, || {
                let module = catch_panic(|| {
                    ScriptResolver.resolve(engine, Some(source), path, rhai::Position::new(1, 1))
                })
                .map_err(|message| ScriptError::from_panic(source, &message))?
                .map_err(|err| ScriptError::from_eval(source, &err))?;
                crate::nn::device::synchronize_all().map_err(|err| ScriptError {
                    kind: super::errors::ErrorKind::Runtime,
                    message: format!("{source}: {err}"),
                    location: None,
                    call_chain: Vec::new(),
                })?;
                Ok(module)
            })??;
            self.engine.register_static_module(alias.as_str(), module);
        }
        self.accepted.push(code.to_string());
        Ok(Dynamic::UNIT)
    }
}

/// Runs `work` through [`stack::run`]; failing to start the evaluation thread is an error of
/// the evaluation of `source`.
fn on_eval_thread<T: Send>(
    source: &str,
    work: impl FnOnce() -> T + Send,
) -> Result<T, ScriptError> {
    stack::run(work).map_err(|err| ScriptError {
        kind: super::errors::ErrorKind::Internal,
        message: format!("{source}: cannot start the evaluation thread: {err}"),
        location: None,
        call_chain: Vec::new(),
    })
}

/// When `code` consists only of `import "path" as alias;` statements, their paths and aliases.
///
/// In the REPL each line is a separate evaluation, and Rhai forgets a line's imports when it
/// ends; such lines are therefore registered as session-wide modules instead.
fn whole_line_imports(code: &str) -> Option<Vec<(String, String)>> {
    let mut imports = Vec::new();
    for statement in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let rest = statement.strip_prefix("import")?.trim_start();
        let rest = rest.strip_prefix('"')?;
        let (path, rest) = rest.split_once('"')?;
        let alias = rest.trim().strip_prefix("as")?.trim();
        let valid_alias = !alias.is_empty()
            && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !alias.starts_with(|c: char| c.is_ascii_digit());
        if !valid_alias || path.contains('"') {
            return None;
        }
        imports.push((path.to_string(), alias.to_string()));
    }
    (!imports.is_empty()).then_some(imports)
}

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

thread_local! {
    static EVALUATING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Wraps the panic printer: while a session evaluates on this thread, a panic's message is
/// recorded for [`ScriptError::from_panic`] instead of scribbling over the terminal; any other
/// panic is printed as before.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EVALUATING.with(|e| e.get()) {
                return previous(info);
            }
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            *PANIC_MESSAGE.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{text}{at}"));
        }));
    });
}

/// Runs `f`, turning a panic into `Err(message)`.
fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    EVALUATING.with(|e| e.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    EVALUATING.with(|e| e.set(false));
    outcome.map_err(|_| {
        PANIC_MESSAGE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| "unknown panic".to_string())
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::script::ErrorKind;

    fn quiet() -> Session {
        Session::with_output(Arc::new(|_: &str| {}))
    }

    fn capturing() -> (Session, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let session = Session::with_output(Arc::new(move |text: &str| {
            sink.lock().unwrap().push(text.to_string())
        }));
        (session, lines)
    }

    #[test]
    fn variables_and_functions_persist_across_evaluations() {
        let mut s = quiet();
        assert!(s.eval("<repl>", "let x = 2;").unwrap().is_unit());
        assert_eq!(s.eval("<repl>", "x * 21").unwrap().as_int().unwrap(), 42);
        let _ = s.eval("<repl>", "fn f(a) { a + 1 }").unwrap();
        assert_eq!(s.eval("<repl>", "f(41)").unwrap().as_int().unwrap(), 42);
        let _ = s.eval("<repl>", "fn g(a) { f(a) * 2 }").unwrap();
        assert_eq!(s.eval("<repl>", "g(x)").unwrap().as_int().unwrap(), 6);
    }

    #[test]
    fn errors_carry_positions_and_keep_the_scope() {
        let mut s = quiet();
        let _ = s.eval("<repl>", "let kept = 5;").unwrap();
        let err = s
            .eval("<repl>", "let a = 1;\nlet b = a + missing;")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Runtime);
        assert_eq!(err.to_string(), "<repl>:2:13: Variable not found: missing");
        let err = s.eval("<repl>", "let c = (1 + ;").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax);
        assert!(err.to_string().starts_with("<repl>:1:"), "{err}");
        assert_eq!(s.eval("<repl>", "kept").unwrap().as_int().unwrap(), 5);
    }

    #[test]
    fn errors_inside_functions_report_the_call_chain() {
        let mut s = quiet();
        let code = "fn inner(v) {\n  v.no_such_method()\n}\nfn outer(v) { inner(v) }\nouter(1)";
        let err = s.eval("job.rhai", code).unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines[0].starts_with("job.rhai:2:5: Function not found: no_such_method"),
            "{err}"
        );
        assert_eq!(lines[1], "  in function 'inner', called at job.rhai:4:15");
        assert_eq!(lines[2], "  in function 'outer', called at job.rhai:5:1");
    }

    #[test]
    fn library_errors_become_positioned_script_errors() {
        let mut s = quiet();
        let err = s.eval("<repl>", "let ok = 1;\n  seed(-3)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "<repl>:2:3: invalid seed: -3 is negative; use a seed >= 0"
        );
    }

    #[test]
    fn interrupt_stops_an_endless_loop_and_keeps_the_session() {
        let mut s = quiet();
        let _ = s.eval("<repl>", "let x = 2;").unwrap();
        let interrupt = s.interrupt();
        let trigger = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            interrupt.trigger();
        });
        let started = Instant::now();
        let err = s.eval("<repl>", "loop {}").unwrap_err();
        trigger.join().unwrap();
        assert!(err.is_interrupted(), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(s.eval("<repl>", "x").unwrap().as_int().unwrap(), 2);
    }

    #[test]
    fn a_panicking_builtin_is_reported_and_the_session_survives() {
        let mut s = quiet();
        let _ = s.eval("<repl>", "let x = 2;").unwrap();
        s.engine_mut()
            .register_fn("explode", || -> i64 { panic!("boom") });
        let err = s.eval("<repl>", "explode()").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal);
        assert!(err.to_string().contains("boom"), "{err}");
        assert_eq!(s.eval("<repl>", "x + 1").unwrap().as_int().unwrap(), 3);
    }

    #[test]
    fn help_lists_domains_and_documents_builtins() {
        let (mut s, lines) = capturing();
        let _ = s.eval("<repl>", "help()").unwrap();
        let index = lines.lock().unwrap().join("\n");
        assert!(
            index.contains("core — session seed, help, checks and version"),
            "{index}"
        );
        assert!(index.contains("  seed"), "{index}");
        assert!(index.contains("  version"), "{index}");
        lines.lock().unwrap().clear();
        let _ = s.eval("<repl>", "help(\"seed\")").unwrap();
        let text = lines.lock().unwrap().join("\n");
        assert!(text.contains("seed(n: int)"), "{text}");
        assert!(text.contains("Sets the session seed."), "{text}");
        lines.lock().unwrap().clear();
        let _ = s.eval("<repl>", "help(\"push\")").unwrap();
        assert!(lines.lock().unwrap().join("\n").contains("push("));
        let err = s
            .eval("<repl>", "help(\"versoin\")")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean version"), "{err}");
    }

    #[test]
    fn assert_stops_with_the_message_and_position() {
        let mut s = quiet();
        assert!(
            s.eval("<t>", "assert(1 < 2, \"fine\"); assert(true)")
                .is_ok()
        );
        let err = s.eval("<t>", "assert(1 > 2, \"order\")").unwrap_err();
        assert_eq!(err.to_string(), "<t>:1:1: assertion failed: order");
        let err = s.eval("<t>", "\nassert(false)").unwrap_err();
        assert_eq!(err.to_string(), "<t>:2:1: assertion failed");
    }

    #[test]
    fn seed_is_session_state() {
        let mut s = quiet();
        let _ = s.eval("<repl>", "seed(7)").unwrap();
        assert_eq!(s.seed(), 7);
        s.set_seed(11);
        assert_eq!(s.eval("<repl>", "seed()").unwrap().as_int().unwrap(), 11);
        let first = s.state().next_stream();
        let _ = s.eval("<repl>", "seed(11)").unwrap();
        assert_eq!(s.state().next_stream(), first);
    }

    #[test]
    fn version_and_args_are_available() {
        let mut s = quiet();
        let v = s
            .eval("<repl>", "version()")
            .unwrap()
            .into_string()
            .unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(s.eval("<repl>", "ARGS.len()").unwrap().as_int().unwrap(), 0);
        s.set_args(vec!["a".into(), "b".into()]);
        assert_eq!(
            s.eval("<repl>", "ARGS[1]").unwrap().into_string().unwrap(),
            "b"
        );
    }

    #[test]
    fn stdlib_imports_work_in_scripts_and_persist_in_the_repl() {
        let mut s = quiet();
        let mean = s
            .eval(
                "<script>",
                "import \"arrays\" as a; a::mean([1.0, 2.0, 6.0])",
            )
            .unwrap();
        assert_eq!(mean.as_float().unwrap(), 3.0);
        let _ = s.eval("<repl>", "import \"arrays\" as arr;").unwrap();
        let max = s.eval("<repl>", "arr::max_of([3, 9, 4])").unwrap();
        assert_eq!(max.as_int().unwrap(), 9);
        let err = s.eval("<repl>", "arr::mean([])").unwrap_err().to_string();
        assert!(err.contains("mean() of an empty array"), "{err}");
    }

    #[test]
    fn file_imports_are_relative_to_the_importing_script() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/steps.rhai"), "fn double(x) { 2 * x }").unwrap();
        std::fs::write(
            dir.path().join("main.rhai"),
            "import \"lib/steps\" as steps;\nsteps::double(21)",
        )
        .unwrap();
        let mut s = quiet();
        let value = s.run_file(&dir.path().join("main.rhai")).unwrap();
        assert_eq!(value.as_int().unwrap(), 42);
        std::fs::write(dir.path().join("broken.rhai"), "import \"nowhere\" as n;").unwrap();
        let err = s
            .run_file(&dir.path().join("broken.rhai"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Module not found: nowhere"), "{err}");
        assert!(err.contains("broken.rhai:1:"), "{err}");
    }

    #[test]
    fn endless_eval_and_import_cycles_are_errors_not_aborts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = quiet();
        let _ = s.eval("<repl>", "let kept = 5;").unwrap();
        let err = s
            .eval("<repl>", "let s = \"eval(s)\"; eval(s)")
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Runtime);
        let text = err.to_string();
        assert!(text.contains("nests too deeply"), "{text}");
        // The recursion shows as one frame with its count, not thousands of lines.
        assert!(text.lines().count() < 5, "{text}");
        assert!(text.contains("times)"), "{text}");

        std::fs::write(dir.path().join("me.rhai"), "import \"me\" as m;").unwrap();
        std::fs::write(dir.path().join("a.rhai"), "import \"b\" as b;").unwrap();
        std::fs::write(dir.path().join("b.rhai"), "import \"a\" as a;").unwrap();
        let err = s.run_file(&dir.path().join("me.rhai")).unwrap_err();
        assert!(err.to_string().contains("import cycle"), "{err}");
        let err = s.run_file(&dir.path().join("a.rhai")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("import cycle") && text.contains("b.rhai imports"),
            "{text}"
        );
        let line = format!("import \"{}\" as a;", dir.path().join("a").display());
        let err = s.eval("<repl>", &line).unwrap_err();
        assert!(err.to_string().contains("import cycle"), "{err}");
        // An import that failed leaves nothing behind: the same module imports cleanly later.
        std::fs::write(dir.path().join("b.rhai"), "fn two() { 2 }").unwrap();
        let _ = s.eval("<repl>", &line).unwrap();
        assert_eq!(s.eval("<repl>", "kept").unwrap().as_int().unwrap(), 5);
    }

    #[test]
    fn runaway_sizes_and_recursion_stop_at_the_limits() {
        let mut s = quiet();
        let _ = s.eval("<repl>", "let kept = 5;").unwrap();
        let cases = [
            (
                "let s = \"x\"; loop { s += s; }",
                "Length of string too large",
            ),
            (
                "let b = blob(10_000_000_000);",
                "Size of array/BLOB too large",
            ),
            (
                "let a = [1]; loop { a += a; }",
                "Size of array/BLOB too large",
            ),
            ("fn f(n) { f(n + 1) } f(0)", "deeper than 1000 levels"),
        ];
        for (code, expected) in cases {
            let err = s.eval("<repl>", code).unwrap_err().to_string();
            assert!(err.contains(expected), "{code}: {err}");
        }
        // Recursion within the limit works.
        let _ = s
            .eval(
                "<repl>",
                "fn depth(n) { if n == 0 { 0 } else { 1 + depth(n - 1) } }",
            )
            .unwrap();
        assert_eq!(
            s.eval("<repl>", "depth(900)").unwrap().as_int().unwrap(),
            900
        );
        assert_eq!(s.eval("<repl>", "kept").unwrap().as_int().unwrap(), 5);
    }

    #[test]
    fn a_missing_script_file_is_named() {
        let err = quiet()
            .run_file(Path::new("/no/such/script.rhai"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot read '/no/such/script.rhai'"),
            "{err}"
        );
    }

    #[test]
    fn whole_line_imports_are_recognised() {
        assert_eq!(
            whole_line_imports("import \"arrays\" as a; import \"x/y\" as b"),
            Some(vec![
                ("arrays".into(), "a".into()),
                ("x/y".into(), "b".into())
            ])
        );
        assert_eq!(
            whole_line_imports("import \"arrays\" as a; a::sum([1])"),
            None
        );
        assert_eq!(whole_line_imports("let x = 1;"), None);
        assert_eq!(whole_line_imports("import \"arrays\";"), None);
    }

    #[test]
    fn display_quotes_strings_and_formats_containers() {
        let mut s = quiet();
        let v = s.eval("<repl>", "\"abc\"").unwrap();
        assert_eq!(s.display(&v), "\"abc\"");
        let v = s.eval("<repl>", "[1, 2.5]").unwrap();
        assert_eq!(s.display(&v), "[1, 2.5]");
        // A built-in type shows its own summary, not the Rust type name.
        let v = s
            .eval("<repl>", "[1.0, 2.0].hist(linear_bins(0.0, 4.0, 4))")
            .unwrap();
        let shown = s.display(&v);
        assert!(
            !shown.contains("bumplab::") && shown.contains("Hist1D"),
            "{shown}"
        );
        let _ = s
            .eval("<repl>", "let long = \"x\"; long.pad(100, 'x');")
            .unwrap();
        let vars = s.variables();
        let long = vars.iter().find(|v| v.name == "long").unwrap();
        assert_eq!(long.type_name, "string");
        assert!(long.preview.ends_with("...") && long.preview.chars().count() == 60);
    }
}
