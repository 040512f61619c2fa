//! The incoming side of every declared relation, as a compact CSR index
//! (a few bytes per relation: the 200k catalog needs a few MB).

use crate::catalog::{Catalog, Rel, Target};

#[derive(Debug)]
pub struct Incoming {
    offsets: Vec<u32>,
    sources: Vec<u32>,
    rels: Vec<Rel>,
}

impl Incoming {
    pub fn build(cat: &Catalog) -> Self {
        let n = cat.total();
        let mut degree = vec![0u32; n + 1];
        for g in 0..n {
            for d in cat.decls(g) {
                if let Target::Entity(t) = d.target {
                    degree[t + 1] += 1;
                }
            }
        }
        for i in 1..=n {
            degree[i] += degree[i - 1];
        }
        let offsets = degree;
        let edges = offsets[n] as usize;
        let mut fill = offsets.clone();
        let mut sources = vec![0u32; edges];
        let mut rels = vec![Rel::OwnedBy; edges];
        for g in 0..n {
            for d in cat.decls(g) {
                if let Target::Entity(t) = d.target {
                    let at = fill[t] as usize;
                    sources[at] = g as u32;
                    rels[at] = d.rel;
                    fill[t] += 1;
                }
            }
        }
        Incoming {
            offsets,
            sources,
            rels,
        }
    }

    /// `(source entity, declared relation)` for every declaration targeting `g`.
    pub fn of(&self, g: usize) -> impl Iterator<Item = (usize, Rel)> + '_ {
        let (a, b) = (self.offsets[g] as usize, self.offsets[g + 1] as usize);
        self.sources[a..b]
            .iter()
            .zip(&self.rels[a..b])
            .map(|(s, r)| (*s as usize, *r))
    }
}
