//! The declared XML layout of a return (`layout xml { ... }`): each element's place in its parent's
//! sequence, how often it occurs, the facets of its text, and the field read from it.
//!
//! Made by `check` from the layout declaration and the tables' `xml` paths (a field's element gets
//! its field's type when the layout gives it no facet); read by `input` to validate a document as
//! the return's XSD does while it is read.

use super::{FieldId, TableId};
use crate::syntax::ast::TextKind;

/// The elements of a document, the root first.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Every element; children refer to it by index; index 0 is the root.
    pub elements: Vec<Elem>,
}

/// One element of the layout.
#[derive(Clone, Debug)]
pub struct Elem {
    /// Its name.
    pub name: String,
    /// Least occurrences in its parent.
    pub min: u32,
    /// Most occurrences (`None`: unbounded).
    pub max: Option<u32>,
    /// The elements inside it, in order; `None` when it holds text.
    pub children: Option<Vec<usize>>,
    /// What its text must be (elements that hold text).
    pub value: ValueRule,
    /// The field read from it, if any.
    pub field: Option<(TableId, FieldId)>,
    /// Its path from the root (`Message/Children/Child`).
    pub path: String,
}

/// The facets of an element's text.
#[derive(Clone, Debug)]
pub struct ValueRule {
    /// Its type.
    pub kind: TextKind,
    /// The only values allowed (exact), and the code list they come from.
    pub enums: Option<(Vec<String>, Option<String>)>,
    /// Patterns, one of which must match the whole text.
    pub patterns: Vec<(String, regex::Regex)>,
    /// Least and most characters.
    pub length: Option<(u32, Option<u32>)>,
}

impl Default for ValueRule {
    fn default() -> Self {
        ValueRule { kind: TextKind::Text, enums: None, patterns: vec![], length: None }
    }
}

impl Layout {
    /// The element with index `i`.
    pub fn get(&self, i: usize) -> Option<&Elem> {
        self.elements.get(i)
    }
    /// The root element.
    pub fn root(&self) -> Option<&Elem> {
        self.elements.first()
    }
    /// The element at a `/`-separated path from the root.
    pub fn find(&self, path: &str) -> Option<usize> {
        let mut parts = path.split('/').filter(|s| !s.is_empty());
        let root = self.root()?;
        if parts.next()? != root.name {
            return None;
        }
        let mut cur = 0usize;
        for p in parts {
            let children = self.get(cur)?.children.as_ref()?;
            cur = *children.iter().find(|c| self.get(**c).is_some_and(|e| e.name == p))?;
        }
        Some(cur)
    }
}
