//! Evaluation frames: a list of items (rows, groups, pairs of related rows) with the variables each
//! item binds, evaluated one expression node at a time over all items.

use super::fault::{Checked, Fault};
use crate::schema::TableId;
use crate::table::Scalar;
use std::sync::Arc;

/// Rows grouped by a key: `rows[offsets[g]..offsets[g+1]]` are group `g`'s rows.
#[derive(Clone, Debug, Default)]
pub struct Csr {
    /// Start of each group in `rows`, plus the end.
    pub offsets: Vec<u32>,
    /// Row indexes, group after group.
    pub rows: Vec<u32>,
}

impl Csr {
    /// The rows of group `g`.
    ///
    /// INVARIANT: `g` is a group of this CSR (a row of the table it groups by, or a group id made
    /// with it), and the offsets rise within `rows`; a lookup outside is a [`Fault`].
    pub fn group(&self, g: u32) -> Checked<&[u32]> {
        let bounds = (self.offsets.get(g as usize), self.offsets.get(g as usize + 1));
        let (Some(&s), Some(&e)) = bounds else {
            return Err(Fault::new(format!("group {g} is not one of the {} groups of a row index", self.len())));
        };
        self.rows
            .get(s as usize..e as usize)
            .ok_or_else(|| Fault::new(format!("group {g} of a row index spans rows {s}..{e} of {}", self.rows.len())))
    }
    /// Number of groups.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a variable is bound to, per item.
#[derive(Clone, Debug, Default)]
pub enum Bind {
    /// Not bound in this frame.
    #[default]
    None,
    /// A row of `table` per item.
    Rows {
        /// The table.
        table: TableId,
        /// The row of each item.
        rows: Arc<Vec<u32>>,
    },
    /// A list item per item, with its 1-based position in the list.
    Items {
        /// The item of each frame item.
        vals: Arc<Vec<Scalar>>,
        /// Its position.
        pos: Arc<Vec<u32>>,
    },
    /// A group of rows per item.
    Group {
        /// The rows' table.
        table: TableId,
        /// The group of each item.
        gid: Arc<Vec<u32>>,
        /// The groups.
        csr: Arc<Csr>,
    },
}

/// Collects `n` checked values into a vector made at its full size at once (`collect` into a
/// `Result` cannot know the size, and grows the vector as it goes: twice the time on hot columns).
pub fn try_vec<T>(n: usize, it: impl Iterator<Item = Checked<T>>) -> Checked<Vec<T>> {
    let mut out = Vec::with_capacity(n);
    for x in it {
        out.push(x?);
    }
    Ok(out)
}

/// `src[i]` for every `i` of `idx`, or the [`Fault`] that `missing` makes of the first index outside
/// `src`. The hot reads (a field's column at a frame's rows, a frame's items) go through here: one
/// bounds check per value, as an unchecked read would make, and the fault made only when one fails
/// (a `Result` per value, collected, costs about a third more rule time on 50,000 children).
#[inline]
pub fn gather<T: Clone>(src: &[T], idx: &[u32], missing: impl FnOnce(u32) -> Fault) -> Checked<Vec<T>> {
    let mut out = Vec::with_capacity(idx.len());
    for &i in idx {
        match src.get(i as usize) {
            Some(v) => out.push(v.clone()),
            None => return Err(cold(|| missing(i))),
        }
    }
    Ok(out)
}

/// Makes a fault off the hot path (a loop that can fail keeps its fast path tight).
#[cold]
#[inline(never)]
pub fn cold(make: impl FnOnce() -> Fault) -> Fault {
    make()
}

/// A value: one for every item, or one shared by all.
#[derive(Clone, Debug)]
pub enum Val {
    /// The same value for every item.
    S(Scalar),
    /// A value per item.
    C(Arc<Vec<Scalar>>),
}

impl Val {
    /// The value of item `i`.
    ///
    /// INVARIANT: `i` is an item of the frame the value was evaluated over, and a column has a
    /// value per item of that frame (`expr::eval` checks the length of every column it returns);
    /// an item outside is a [`Fault`], never a missing value.
    #[inline]
    pub fn at(&self, i: usize) -> Checked<&Scalar> {
        match self {
            Val::S(s) => Ok(s),
            Val::C(c) => c.get(i).ok_or_else(|| Fault::new(format!("item {i} of a column of {} values was read", c.len()))),
        }
    }
    /// The values of the first `n` items, for a value of a frame of `n` items: a column shorter
    /// than its frame is a [`Fault`] (the `INVARIANT` of [`Val::at`], checked once for all items).
    pub fn first(&self, n: usize) -> Checked<Items<'_>> {
        match self {
            Val::S(s) => Ok(Items::Same(s, n)),
            Val::C(c) => c
                .get(..n)
                .map(|x| Items::Each(x.iter()))
                .ok_or_else(|| Fault::new(format!("{n} items of a column of {} values were read", c.len()))),
        }
    }
    /// A value per item.
    pub fn col(v: Vec<Scalar>) -> Val {
        Val::C(Arc::new(v))
    }
    /// Items `idx` of this value.
    pub fn gather(&self, idx: &[u32]) -> Checked<Val> {
        match self {
            Val::S(s) => Ok(Val::S(s.clone())),
            Val::C(c) => {
                Ok(Val::col(gather(c, idx, |i| Fault::new(format!("item {i} of a column of {} values was read", c.len())))?))
            }
        }
    }
}

/// The values of a [`Val`] item after item ([`Val::first`]).
pub enum Items<'a> {
    /// The one shared value, this many more times.
    Same(&'a Scalar, usize),
    /// A value per item.
    Each(std::slice::Iter<'a, Scalar>),
}

impl<'a> Iterator for Items<'a> {
    type Item = &'a Scalar;
    #[inline]
    fn next(&mut self) -> Option<&'a Scalar> {
        match self {
            Items::Same(s, k) => {
                if *k == 0 {
                    return None;
                }
                *k -= 1;
                Some(*s)
            }
            Items::Each(it) => it.next(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Items::Same(_, k) => (*k, Some(*k)),
            Items::Each(it) => it.size_hint(),
        }
    }
}

/// The items being evaluated and what each binds.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    /// Number of items.
    pub len: usize,
    /// Variables by `VarId`.
    pub vars: Vec<Bind>,
    /// The rule's `let` values so far.
    pub lets: Vec<Val>,
    /// A group rule's key per item.
    pub key: Option<Val>,
}

/// Items `idx` of a per-item vector. INVARIANT: every index is an item of the frame.
fn gather_u32(v: &[u32], idx: &[u32]) -> Checked<Vec<u32>> {
    gather(v, idx, |i| Fault::new(format!("item {i} of a frame of {} items was selected", v.len())))
}

impl Frame {
    /// The frame of items `idx` (each an index into this frame).
    pub fn select(&self, idx: &[u32]) -> Checked<Frame> {
        let vars = self
            .vars
            .iter()
            .map(|b| {
                Ok(match b {
                    Bind::None => Bind::None,
                    Bind::Rows { table, rows } => Bind::Rows { table: *table, rows: Arc::new(gather_u32(rows, idx)?) },
                    Bind::Items { vals, pos } => Bind::Items {
                        vals: Arc::new(gather(vals, idx, |i| {
                            Fault::new(format!("item {i} of a frame of {} list items was selected", vals.len()))
                        })?),
                        pos: Arc::new(gather_u32(pos, idx)?),
                    },
                    Bind::Group { table, gid, csr } => {
                        Bind::Group { table: *table, gid: Arc::new(gather_u32(gid, idx)?), csr: csr.clone() }
                    }
                })
            })
            .collect::<Checked<_>>()?;
        Ok(Frame {
            len: idx.len(),
            vars,
            lets: self.lets.iter().map(|l| l.gather(idx)).collect::<Checked<_>>()?,
            key: self.key.as_ref().map(|k| k.gather(idx)).transpose()?,
        })
    }

    /// Binds variable `v`.
    pub fn bind(&mut self, v: u32, b: Bind) {
        let i = v as usize;
        if self.vars.len() <= i {
            self.vars.resize(i + 1, Bind::None);
        }
        if let Some(slot) = self.vars.get_mut(i) {
            *slot = b;
        }
    }

    /// The binding of variable `v` ([`Bind::None`] when this frame does not bind it: a caller that
    /// relies on `check`'s scoping treats that as a [`Fault`]).
    pub fn var(&self, v: u32) -> &Bind {
        static NONE: Bind = Bind::None;
        self.vars.get(v as usize).unwrap_or(&NONE)
    }
}
