//! The catalog of built-ins: names, signatures and doc comments, grouped by domain.
//!
//! It is read from the Rhai engine's own function metadata, so a built-in registered by a
//! domain module is documented (`help`) and completable with no extra step: its Rust doc
//! comment is its help text.

use std::collections::{BTreeMap, BTreeSet};

use rhai::{Engine, Module, Shared};
use serde::Deserialize;

use super::domain::Domain;

/// One overload of a built-in function.
#[derive(Clone, Debug)]
pub struct FnDoc {
    /// The function's name as called from Rhai.
    pub name: String,
    /// The signature, e.g. `seed(n: int)`.
    pub signature: String,
    /// The canonical type of the first parameter (see [`canonical_type`]), used for method
    /// completion after `value.`; `None` for functions without parameters.
    pub receiver: Option<String>,
    /// The doc comment, without comment markers.
    pub doc: String,
    /// Number of parameters.
    pub arity: usize,
}

impl FnDoc {
    /// The first sentence of the doc comment, for one-line listings.
    pub fn summary(&self) -> String {
        let paragraph: Vec<&str> = self
            .doc
            .lines()
            .map(str::trim)
            .take_while(|l| !l.is_empty())
            .collect();
        let paragraph = paragraph.join(" ");
        let mut end = paragraph.len();
        for (i, _) in paragraph.match_indices(". ") {
            let before = &paragraph[..i];
            if !(before.ends_with("e.g") || before.ends_with("i.e") || before.ends_with("etc")) {
                end = i + 1;
                break;
            }
        }
        paragraph[..end].to_string()
    }

    /// Whether the function is an operator or a property/indexer accessor rather than
    /// something a user calls by name.
    fn is_callable_by_name(&self) -> bool {
        self.name
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && !self.name.contains('$')
    }
}

/// The built-ins of one domain.
#[derive(Clone, Debug)]
pub struct DomainDoc {
    /// The domain's name, e.g. `core` or `events`.
    pub name: String,
    /// One line saying what the domain is for.
    pub about: String,
    /// Its functions, sorted by name.
    pub functions: Vec<FnDoc>,
}

/// Everything `help` and completion know about the built-ins.
#[derive(Clone, Debug)]
pub struct Catalog {
    domains: Vec<DomainDoc>,
    language: Vec<FnDoc>,
    /// Per built-in taking an options map, its declared options tables.
    options: OptionTables,
}

/// Per built-in name, its options tables, each with the receiver type it belongs to where
/// the name's methods on different types take different options.
type OptionTables = BTreeMap<String, Vec<(Option<String>, String)>>;

/// Conversions every type has (`print` uses them); `help("to_string")` lists them, the index
/// does not.
const CONVERSIONS: [&str; 2] = ["to_string", "to_debug"];

/// `text` cut to at most `max` characters, ending in an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The domain name used for the functions of the Rhai language itself.
pub const LANGUAGE_DOMAIN: &str = "rhai";

impl Catalog {
    /// Builds the catalog from the domain modules and from the Rhai standard library that
    /// `engine` carries.
    pub fn new(domains: &[(&Domain, Shared<Module>)], engine: &Engine) -> Self {
        let options = domains
            .iter()
            .flat_map(|(domain, _)| (domain.options)())
            .fold(BTreeMap::new(), |mut tables: OptionTables, table| {
                tables
                    .entry(table.function().to_string())
                    .or_default()
                    .push((table.receiver().map(String::from), table.table()));
                tables
            });
        let domains = domains
            .iter()
            .map(|(domain, module)| {
                let mut probe = Engine::new_raw();
                probe.register_global_module(module.clone());
                DomainDoc {
                    name: domain.name.to_string(),
                    about: domain.about.to_string(),
                    functions: functions_of(&probe, false),
                }
            })
            .collect::<Vec<_>>();
        let ours: BTreeSet<&str> = domains
            .iter()
            .flat_map(|d| d.functions.iter().map(|f| f.name.as_str()))
            .collect();
        let language = functions_of(engine, true)
            .into_iter()
            .filter(|f| !ours.contains(f.name.as_str()))
            .collect();
        Self {
            domains,
            language,
            options,
        }
    }

    /// The bumplab domains in registration order.
    pub fn domains(&self) -> &[DomainDoc] {
        &self.domains
    }

    /// Every overload named `name`, bumplab's first, then the Rhai language's.
    pub fn lookup(&self, name: &str) -> Vec<&FnDoc> {
        self.all().filter(|f| f.name == name).collect()
    }

    /// The names a user can call, bumplab's and the language's, sorted and unique.
    pub fn callable_names(&self) -> BTreeSet<&str> {
        self.all()
            .filter(|f| f.is_callable_by_name())
            .map(|f| f.name.as_str())
            .collect()
    }

    /// Names of the built-ins that draw a figure to a path (`plot`, `plot_hists`,
    /// `dm_box_plot`, ...): those starting with `plot` or ending in `_plot`.
    pub fn figure_names(&self) -> BTreeSet<&str> {
        self.all()
            .map(|f| f.name.as_str())
            .filter(|name| name.starts_with("plot") || name.ends_with("_plot"))
            .collect()
    }

    /// Method and property names usable after `value.` on a value of canonical type
    /// `receiver` (see [`canonical_type`]); with `None`, those of every type.
    pub fn methods_of(&self, receiver: Option<&str>) -> BTreeSet<String> {
        self.all()
            .filter(|f| match (&f.receiver, receiver) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(r), Some(want)) => r == want || r == "dynamic",
            })
            .filter_map(|f| {
                if let Some(property) = f.name.strip_prefix("get$") {
                    Some(property.to_string())
                } else if f.is_callable_by_name() {
                    Some(f.name.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    /// The `help()` text: bumplab's built-ins grouped by domain with one line each.
    pub fn index_text(&self) -> String {
        let mut out = String::from(
            "bumplab built-ins — help(\"name\") shows a signature and its documentation.\n",
        );
        for domain in &self.domains {
            out.push_str(&format!("\n{} — {}\n", domain.name, domain.about));
            let listed: Vec<&FnDoc> = domain
                .functions
                .iter()
                .filter(|f| f.is_callable_by_name() && !CONVERSIONS.contains(&f.name.as_str()))
                .collect();
            let width = listed.iter().map(|f| f.name.len()).max().unwrap_or(0);
            let mut seen = BTreeSet::new();
            for f in listed {
                if seen.insert(f.name.as_str()) {
                    out.push_str(&format!(
                        "  {:<width$}  {}\n",
                        f.name,
                        shorten(&f.summary(), 96 - width)
                    ));
                }
            }
        }
        let language: BTreeSet<&str> = self
            .language
            .iter()
            .filter(|f| f.is_callable_by_name())
            .map(|f| f.name.as_str())
            .collect();
        out.push_str(&format!(
            "\n{LANGUAGE_DOMAIN} — the Rhai language: {} functions such as print, len, push, map, filter, sort;\n  help(\"push\") documents each.\n",
            language.len()
        ));
        out
    }

    /// The `help("name")` text: every overload's signature and doc comment, then the declared
    /// options table when `name` takes options; `None` when nothing is called `name`.
    pub fn help_text(&self, name: &str) -> Option<String> {
        let found = self.lookup(name);
        if found.is_empty() {
            return None;
        }
        let mut out = String::new();
        let mut last_doc = None;
        for f in &found {
            out.push_str(&f.signature);
            out.push('\n');
            if !f.doc.is_empty() && last_doc != Some(&f.doc) {
                for line in f.doc.lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
                last_doc = Some(&f.doc);
            }
        }
        for (receiver, table) in self.options.get(name).into_iter().flatten() {
            match receiver {
                None => out.push_str("\n    Options:\n"),
                Some(r) => out.push_str(&format!("\n    Options on {r}:\n")),
            }
            for line in table.lines() {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
        }
        Some(out)
    }

    /// Up to five callable names closest to `name`, for "did you mean" messages.
    pub fn suggestions(&self, name: &str) -> Vec<&str> {
        let mut scored: Vec<(usize, &str)> = self
            .callable_names()
            .into_iter()
            .map(|candidate| (edit_distance(name, candidate), candidate))
            .filter(|&(d, candidate)| d <= name.len().max(candidate.len()) / 2)
            .collect();
        scored.sort();
        scored.into_iter().take(5).map(|(_, n)| n).collect()
    }

    fn all(&self) -> impl Iterator<Item = &FnDoc> {
        self.domains
            .iter()
            .flat_map(|d| d.functions.iter())
            .chain(self.language.iter())
    }
}

/// A Rhai type name reduced to the form used to match values with methods: the last path
/// segment, lower case, without references, with Rhai's aliases unified (`i64` and `INT` are
/// `int`, `ImmutableString` and `&str` are `string`, `Vec<Dynamic>` is `array`).
pub fn canonical_type(type_name: &str) -> String {
    let t = type_name
        .trim()
        .trim_start_matches("&mut ")
        .trim_start_matches('&')
        .trim();
    let t = t.rsplit("::").next().unwrap_or(t).to_ascii_lowercase();
    match t.as_str() {
        "i64" | "int" => "int".into(),
        "f64" | "float" => "float".into(),
        "immutablestring" | "string" | "str" => "string".into(),
        "array" | "vec<dynamic>" => "array".into(),
        "map" | "btreemap<smartstring, dynamic>" => "map".into(),
        "blob" | "vec<u8>" => "blob".into(),
        "fnptr" | "fn" => "fnptr".into(),
        "dynamic" | "?" | "" => "dynamic".into(),
        _ => t,
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataJson {
    #[serde(default)]
    functions: Vec<FnJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FnJson {
    name: String,
    #[serde(default)]
    params: Vec<ParamJson>,
    num_params: usize,
    signature: String,
    #[serde(default)]
    doc_comments: Vec<String>,
    #[serde(default)]
    access: String,
}

#[derive(Deserialize)]
struct ParamJson {
    #[serde(rename = "type")]
    typ: Option<String>,
}

fn functions_of(engine: &Engine, include_standard_packages: bool) -> Vec<FnDoc> {
    let json = engine
        .gen_fn_metadata_to_json(include_standard_packages)
        .expect("Rhai metadata always serialises");
    let metadata: MetadataJson =
        serde_json::from_str(&json).expect("Rhai metadata has the documented layout");
    let mut functions: Vec<FnDoc> = metadata
        .functions
        .into_iter()
        .filter(|f| f.access != "private")
        .map(|f| FnDoc {
            receiver: f
                .params
                .first()
                .map(|p| canonical_type(p.typ.as_deref().unwrap_or(""))),
            doc: clean_doc(&f.doc_comments),
            arity: f.num_params,
            name: f.name,
            signature: pretty_signature(&f.signature),
        })
        .collect();
    // The fullest overload first: its documentation describes the main use.
    functions.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(b.arity.cmp(&a.arity))
            .then(a.signature.cmp(&b.signature))
    });
    functions
}

/// A Rhai signature in the words a script writer uses: `int`, `float`, `string` rather than
/// Rust's types, and the value type rather than `Result<T, Box<EvalAltResult>>`.
fn pretty_signature(signature: &str) -> String {
    let (call, returns) = match signature.split_once(" -> ") {
        Some((call, returns)) => (call, Some(returns)),
        None => (signature, None),
    };
    let returns = returns.map(|r| {
        r.strip_prefix("Result<")
            .and_then(|inner| inner.strip_suffix(", Box<EvalAltResult>>"))
            .or_else(|| {
                r.strip_prefix("Out<")
                    .and_then(|inner| inner.strip_suffix('>'))
            })
            .unwrap_or(r)
    });
    let mut out = rename_types(call);
    if let Some(r) = returns.filter(|r| !r.is_empty() && *r != "()") {
        out.push_str(" -> ");
        out.push_str(&rename_types(r));
    }
    out
}

fn rename_types(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "i64" | "INT" => "int",
            "f64" | "FLOAT" => "float",
            "ImmutableString" | "String" | "str" => "string",
            "Array" => "array",
            "Map" => "map",
            "Dynamic" => "?",
            w => w,
        });
        word.clear();
    };
    let text = text.replace("&mut ", "").replace('&', "");
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn clean_doc(comments: &[String]) -> String {
    let mut lines = Vec::new();
    for block in comments {
        for line in block.lines() {
            let line = line.trim();
            let line = line
                .strip_prefix("///")
                .or_else(|| line.strip_prefix("/**"))
                .or_else(|| line.strip_prefix("*/"))
                .or_else(|| line.strip_prefix('*'))
                .unwrap_or(line);
            let line = line.strip_suffix("*/").unwrap_or(line);
            lines.push(
                line.strip_prefix(' ')
                    .unwrap_or(line)
                    .trim_end()
                    .to_string(),
            );
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_types_unify_aliases() {
        assert_eq!(canonical_type("&mut Array"), "array");
        assert_eq!(canonical_type("i64"), "int");
        assert_eq!(canonical_type("INT"), "int");
        assert_eq!(canonical_type("ImmutableString"), "string");
        assert_eq!(canonical_type("&str"), "string");
        assert_eq!(canonical_type("bumplab::data::EventSet"), "eventset");
    }

    #[test]
    fn doc_markers_are_stripped() {
        let doc = clean_doc(&["/// First line.\n/// Second line.".to_string()]);
        assert_eq!(doc, "First line.\nSecond line.");
        let doc = clean_doc(&["/** Block\n * doc\n */".to_string()]);
        assert_eq!(doc, "Block\ndoc");
    }

    #[test]
    fn signatures_use_script_type_names() {
        assert_eq!(
            pretty_signature("seed(n: i64) -> Result<(), Box<EvalAltResult>>"),
            "seed(n: int)"
        );
        assert_eq!(
            pretty_signature("seed() -> Result<i64, Box<EvalAltResult>>"),
            "seed() -> int"
        );
        assert_eq!(
            pretty_signature("push(array: &mut Array, item: Dynamic)"),
            "push(array: array, item: ?)"
        );
        assert_eq!(
            pretty_signature("version() -> String"),
            "version() -> string"
        );
    }

    #[test]
    fn summaries_are_first_sentences() {
        let doc = |text: &str| FnDoc {
            name: "f".into(),
            signature: "f()".into(),
            receiver: None,
            arity: 0,
            doc: text.into(),
        };
        assert_eq!(
            doc("Returns the version, e.g. \"0.1\".\nMore.").summary(),
            "Returns the version, e.g. \"0.1\"."
        );
        assert_eq!(
            doc("Sets the seed. Every random\nbuilt-in draws from it.").summary(),
            "Sets the seed."
        );
        assert_eq!(
            doc("Spans\ntwo lines.\n\nSecond paragraph.").summary(),
            "Spans two lines."
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("seed", "seed"), 0);
        assert_eq!(edit_distance("sed", "seed"), 1);
        assert_eq!(edit_distance("version", "versoin"), 2);
    }
}
