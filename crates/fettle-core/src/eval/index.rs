//! Row links computed once per dataset: each row's ancestor in every table above it, and each
//! ancestor row's descendants in every table below it (a sort kernel, linear in rows).

use super::frame::Csr;
use crate::schema::{Schema, TableId};
use crate::table::{Dataset, NONE};
use std::collections::HashMap;
use std::sync::Arc;

/// Ancestor maps and descendant groups.
#[derive(Debug, Default)]
pub struct Index {
    anc: HashMap<(TableId, TableId), Arc<Vec<u32>>>,
    below: HashMap<(TableId, TableId), Arc<Csr>>,
}

impl Index {
    /// Builds the links of every table to every ancestor.
    pub fn new(schema: &Schema, data: &Dataset) -> Index {
        let mut idx = Index::default();
        for t in schema.table_ids() {
            let Some(tbl) = data.table(t) else { continue };
            let mut cur: Vec<u32> = (0..tbl.len as u32).collect();
            let mut cur_t = t;
            while let Some(p) = schema.table(cur_t).parent {
                let links = data.table(cur_t).map(|x| &x.parent);
                cur = cur
                    .iter()
                    .map(|r| if *r == NONE { NONE } else { links.and_then(|l| l.get(*r as usize)).copied().unwrap_or(NONE) })
                    .collect();
                idx.anc.insert((t, p), Arc::new(cur.clone()));
                // Descendants of each `p` row in `t`, in row order.
                let plen = data.table(p).map_or(0, |x| x.len);
                let mut counts = vec![0u32; plen + 1];
                for a in &cur {
                    if let Some(c) = counts.get_mut(*a as usize) {
                        *c += 1;
                    }
                }
                let mut offsets = Vec::with_capacity(plen + 1);
                let mut acc = 0u32;
                offsets.push(0);
                for c in counts.iter().take(plen) {
                    acc += c;
                    offsets.push(acc);
                }
                let mut fill = offsets.clone();
                let mut rows = vec![0u32; acc as usize];
                for (r, a) in cur.iter().enumerate() {
                    if let Some(f) = fill.get_mut(*a as usize) {
                        if let Some(slot) = rows.get_mut(*f as usize) {
                            *slot = r as u32;
                        }
                        *f += 1;
                    }
                }
                idx.below.insert((p, t), Arc::new(Csr { offsets, rows }));
                cur_t = p;
            }
        }
        idx
    }

    /// For each row of `t`, its row in ancestor table `a`.
    pub fn ancestor(&self, t: TableId, a: TableId) -> Option<&Arc<Vec<u32>>> {
        self.anc.get(&(t, a))
    }

    /// For each row of `a`, its descendant rows in `t`.
    pub fn below(&self, a: TableId, t: TableId) -> Option<&Arc<Csr>> {
        self.below.get(&(a, t))
    }
}
