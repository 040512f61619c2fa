//! Entity kinds, the kind mix, and the mapping between a global entity index
//! and `(kind, index within kind)`.

/// The kinds the fixture generates, in generation order: locations first, then
/// the software-catalog kinds (contiguous, they live in the repositories the
/// locations point at), then the org kinds (from an org provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Location,
    Domain,
    System,
    Component,
    Api,
    Resource,
    Template,
    Group,
    User,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Location,
        Kind::Domain,
        Kind::System,
        Kind::Component,
        Kind::Api,
        Kind::Resource,
        Kind::Template,
        Kind::Group,
        Kind::User,
    ];

    /// The `kind` field of the entity.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Location => "Location",
            Kind::Domain => "Domain",
            Kind::System => "System",
            Kind::Component => "Component",
            Kind::Api => "API",
            Kind::Resource => "Resource",
            Kind::Template => "Template",
            Kind::Group => "Group",
            Kind::User => "User",
        }
    }

    /// Lowercase kind, as in entity refs and in the summary keys.
    pub fn lower(self) -> &'static str {
        match self {
            Kind::Location => "location",
            Kind::Domain => "domain",
            Kind::System => "system",
            Kind::Component => "component",
            Kind::Api => "api",
            Kind::Resource => "resource",
            Kind::Template => "template",
            Kind::Group => "group",
            Kind::User => "user",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Template => "scaffolder.backstage.io/v1beta3",
            _ => "backstage.io/v1alpha1",
        }
    }

    /// Share of the catalog, in percent (sums to 100).
    fn percent(self) -> usize {
        match self {
            Kind::Component => 35,
            Kind::Api => 15,
            Kind::User => 20,
            Kind::Group => 8,
            Kind::System => 6,
            Kind::Domain => 2,
            Kind::Resource => 8,
            Kind::Template => 3,
            Kind::Location => 3,
        }
    }

    fn position(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// Is this kind read from catalog-info files (children of a Location)?
    pub fn is_software(self) -> bool {
        !matches!(self, Kind::Location | Kind::Group | Kind::User)
    }
}

/// How many entities of each kind, and where each kind starts in the global order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCounts {
    counts: [usize; 9],
    offsets: [usize; 9],
    total: usize,
}

impl KindCounts {
    /// Splits `total` by the kind mix (largest remainder); when `total >= 9`
    /// every kind gets at least one entity.
    pub fn new(total: usize) -> Self {
        let mut counts = [0usize; 9];
        let mut remainders: Vec<(usize, usize)> = Vec::with_capacity(9);
        for kind in Kind::ALL {
            let exact = total * kind.percent();
            counts[kind.position()] = exact / 100;
            remainders.push((exact % 100, kind.position()));
        }
        let mut left = total - counts.iter().sum::<usize>();
        // Largest remainder first; ties go to the bigger share, then kind order.
        remainders.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(Kind::ALL[b.1].percent().cmp(&Kind::ALL[a.1].percent()))
                .then(a.1.cmp(&b.1))
        });
        for (_, pos) in remainders {
            if left == 0 {
                break;
            }
            counts[pos] += 1;
            left -= 1;
        }
        if total >= Kind::ALL.len() {
            for pos in 0..counts.len() {
                if counts[pos] == 0 {
                    let largest = (0..counts.len()).max_by_key(|&i| counts[i]).unwrap_or(0);
                    counts[largest] -= 1;
                    counts[pos] = 1;
                }
            }
        }
        let mut offsets = [0usize; 9];
        let mut acc = 0;
        for pos in 0..counts.len() {
            offsets[pos] = acc;
            acc += counts[pos];
        }
        KindCounts {
            counts,
            offsets,
            total,
        }
    }

    pub fn total(&self) -> usize {
        self.total
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.counts[kind.position()]
    }

    /// Global index of entity `k` of `kind`.
    pub fn global(&self, kind: Kind, k: usize) -> usize {
        debug_assert!(k < self.count(kind));
        self.offsets[kind.position()] + k
    }

    /// `(kind, index within kind)` of global index `g`.
    pub fn locate(&self, g: usize) -> (Kind, usize) {
        debug_assert!(g < self.total);
        let pos = (0..self.counts.len())
            .find(|&p| g < self.offsets[p] + self.counts[p])
            .unwrap_or(0);
        (Kind::ALL[pos], g - self.offsets[pos])
    }

    /// Number of software-catalog entities (children of locations).
    pub fn software(&self) -> usize {
        Kind::ALL
            .iter()
            .filter(|k| k.is_software())
            .map(|k| self.count(*k))
            .sum()
    }

    /// Global index of software entity `s` (they are contiguous).
    pub fn software_global(&self, s: usize) -> usize {
        self.offsets[Kind::Domain.position()] + s
    }

    /// Index among software entities of global index `g` (if it is one).
    pub fn software_index(&self, g: usize) -> Option<usize> {
        let start = self.offsets[Kind::Domain.position()];
        (g >= start && g < start + self.software()).then(|| g - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_sums_and_covers_every_kind() {
        for n in [0usize, 1, 5, 9, 10, 37, 200, 500, 20_000, 200_000] {
            let c = KindCounts::new(n);
            assert_eq!(Kind::ALL.iter().map(|k| c.count(*k)).sum::<usize>(), n);
            if n >= 9 {
                assert!(Kind::ALL.iter().all(|k| c.count(*k) > 0), "n={n}");
            }
            for g in 0..n.min(1000) {
                let (kind, k) = c.locate(g);
                assert_eq!(c.global(kind, k), g);
            }
        }
        let c = KindCounts::new(200_000);
        assert_eq!(c.count(Kind::Component), 70_000);
        assert_eq!(c.count(Kind::Location), 6_000);
    }
}
