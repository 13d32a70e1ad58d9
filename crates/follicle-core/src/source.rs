//! Where a value stands in a TOML file, so every error can name the line and the field.
//!
//! Parsing goes in two passes: serde turns the text into typed values (and reports
//! type errors with a byte span), then validation checks ranges and combinations
//! (and reports a field path such as `scars[1].length_mm`). This module turns either
//! a span into a field path or a field path into a line, using `toml`'s spanned
//! document tree.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// A position in a source text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column (in characters), from 1.
    pub column: usize,
}

/// Line and column of a byte offset.
pub fn location_of(src: &str, offset: usize) -> Location {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A key in a table.
    Key(String),
    /// An index in an array.
    Index(usize),
}

/// Splits `scars[1].length_mm` into steps.
pub fn parse_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                steps.push(Step::Key(rest[..open].to_string()));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(close) = stripped.find(']') else { break };
                if let Ok(i) = stripped[..close].parse() {
                    steps.push(Step::Index(i));
                }
                rest = &stripped[close + 1..];
            }
        } else if !rest.is_empty() {
            steps.push(Step::Key(rest.to_string()));
        }
    }
    steps
}

/// A TOML document that can answer "where is this field?" and "which field is here?".
///
/// Its spanned tree is parsed on the first question, not before: a file that reads without an
/// error (every plan request's client file) is parsed once, by serde, not a second time.
#[derive(Debug)]
pub struct SpannedDoc<'a> {
    src: &'a str,
    root: std::cell::OnceCell<Option<toml::Spanned<DeTable<'a>>>>,
}

impl<'a> SpannedDoc<'a> {
    /// The document of `src`; one with syntax errors answers no questions (the syntax error is
    /// reported by serde).
    pub fn new(src: &'a str) -> Self {
        SpannedDoc {
            src,
            root: std::cell::OnceCell::new(),
        }
    }

    /// The spanned tree, parsed on first use.
    fn root(&self) -> Option<&toml::Spanned<DeTable<'a>>> {
        self.root.get_or_init(|| DeTable::parse(self.src).ok()).as_ref()
    }

    /// The source text.
    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The location of the deepest existing part of `path` (the value if present, else its nearest parent).
    pub fn locate(&self, path: &str) -> Option<Location> {
        let root = self.root()?;
        let steps = parse_path(path);
        let mut span: Option<Range<usize>> = None;
        let mut table: Option<&DeTable<'a>> = Some(root.get_ref());
        let mut array: Option<&[toml::Spanned<DeValue<'a>>]> = None;
        for step in &steps {
            let next = match (step, table, array) {
                (Step::Key(k), Some(t), _) => t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k)
                    .map(|(_, v)| v),
                (Step::Index(i), _, Some(a)) => a.get(*i),
                _ => None,
            };
            let Some(value) = next else { break };
            span = Some(value.span());
            table = None;
            array = None;
            match value.get_ref() {
                DeValue::Table(t) => table = Some(t),
                DeValue::Array(a) => array = Some(a.as_ref()),
                _ => {}
            }
        }
        span.map(|s| location_of(self.src, s.start))
    }

    /// The dotted path of the innermost value whose span contains `span` (for serde errors).
    pub fn path_at(&self, span: &Range<usize>) -> Option<String> {
        let root = self.root()?;
        let mut path = String::new();
        walk_table(root.get_ref(), span, &mut path).then_some(path)
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

// The span of a table in an array of tables covers only its `[[header]]`, not its body,
// so the search descends into every table and array and matches on keys and leaf values.
fn walk_table(table: &DeTable<'_>, span: &Range<usize>, path: &mut String) -> bool {
    for (key, value) in table.iter() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        if contains(&key.span(), span) || walk_value(value, span, path) {
            return true;
        }
        path.truncate(len);
    }
    false
}

fn walk_value(value: &toml::Spanned<DeValue<'_>>, span: &Range<usize>, path: &mut String) -> bool {
    match value.get_ref() {
        DeValue::Table(t) => walk_table(t, span, path) || contains(&value.span(), span),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if walk_value(item, span, path) {
                    return true;
                }
                path.truncate(len);
            }
            contains(&value.span(), span)
        }
        _ => contains(&value.span(), span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "a = 1\n[skin]\nfitzpatrick = 7\n\n[[scars]]\nkind = \"fue\"\n[[scars]]\nkind = \"fut_strip\"\nlength_mm = -3\n";

    #[test]
    fn locates_fields() {
        let doc = SpannedDoc::new(DOC);
        let check =
            |path: &str, line: usize| assert_eq!(doc.locate(path).map(|l| l.line), Some(line), "{path}");
        check("a", 1);
        check("skin.fitzpatrick", 3);
        check("scars[1].length_mm", 9);
        check("scars[0].kind", 6);
        // A missing field points at its nearest parent.
        check("skin.missing", 2);
    }

    #[test]
    fn finds_the_path_of_a_span() {
        let doc = SpannedDoc::new(DOC);
        let offset = DOC.find("-3").unwrap();
        assert_eq!(
            doc.path_at(&(offset..offset + 2)).as_deref(),
            Some("scars[1].length_mm")
        );
    }

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("a.b[2].c"),
            vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(2),
                Step::Key("c".into())
            ]
        );
    }

    #[test]
    fn locations_count_characters() {
        assert_eq!(location_of("ab\ncé d", 7), Location { line: 2, column: 4 });
        assert_eq!(location_of("x", 99), Location { line: 1, column: 2 });
    }
}
