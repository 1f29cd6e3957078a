//! [`SharedBTree`]: the ordered map that holds a table's rows and each index's entries.
//!
//! A persistent B+tree: nodes sit behind `Arc`s, so cloning a map (taking a snapshot) costs
//! one reference count, and a write copies only the nodes on its path that another snapshot
//! still shares (nodes it owns alone are changed in place).
//!
//! It exists instead of a general-purpose persistent map for memory: rows are the bulk of a
//! database's resident memory, and tables mostly grow at their right end (serial keys,
//! timestamps, row ids). A B-tree that always splits a full node in half leaves every node
//! half empty under such inserts; this one, like PostgreSQL's and SQLite's B-trees, keeps
//! the full node whole when the new key goes after every key of the rightmost node at its
//! level, and starts the next node with the new key alone. Ascending inserts thus fill nodes
//! completely; other inserts split in half as usual.
//!
//! Invariants:
//! - Every leaf is at the same depth; keys are strictly ascending across the leaves.
//! - A branch with children `c[0..n]` has `n - 1` separators `s`: every key in `c[i]` is
//!   `< s[i]` and every key in `c[i + 1]` is `>= s[i]`. Deletions leave separators in place,
//!   which keeps this true.
//! - No node holds more than [`CAPACITY`] entries (leaves) or children (branches), and no
//!   node is empty, except an empty root leaf (which the map stores as no root at all).
//! - `len` is the number of entries.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Bound, Index};
use std::sync::Arc;

/// Entries per leaf and children per branch.
pub const CAPACITY: usize = 32;

/// A node with fewer entries than this after a removal merges with a neighbour when both fit
/// in one node.
const MERGE_BELOW: usize = CAPACITY / 4;

/// A persistent ordered map (see the module documentation).
pub struct SharedBTree<K, V> {
    root: Option<Arc<Node<K, V>>>,
    len: usize,
}

#[derive(Clone)]
enum Node<K, V> {
    Leaf(Vec<(K, V)>),
    Branch {
        separators: Vec<K>,
        children: Vec<Arc<Node<K, V>>>,
    },
}

/// What an insert into a subtree did.
enum Inserted<K, V> {
    Added,
    Replaced(V),
    /// The subtree split: this node goes to its right, starting at the separator.
    Split(K, Node<K, V>),
}

impl<K, V> Node<K, V> {
    fn size(&self) -> usize {
        match self {
            Node::Leaf(entries) => entries.len(),
            Node::Branch { children, .. } => children.len(),
        }
    }
}

/// Index of the child of a branch whose range holds `key`.
fn child_for<K: Borrow<Q>, Q: Ord + ?Sized>(separators: &[K], key: &Q) -> usize {
    separators.partition_point(|s| s.borrow() <= key)
}

fn search<K: Borrow<Q>, V, Q: Ord + ?Sized>(entries: &[(K, V)], key: &Q) -> Result<usize, usize> {
    entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
}

/// Inserts at `at`, growing a full vector straight to [`CAPACITY`] rather than doubling (a
/// copied node has exactly its length as capacity).
fn insert_at<T>(items: &mut Vec<T>, at: usize, item: T) {
    if items.len() == items.capacity() {
        items.reserve_exact(CAPACITY.saturating_sub(items.len()).max(1));
    }
    items.insert(at, item);
}

fn with_capacity_from<T>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::with_capacity(CAPACITY);
    out.extend(items);
    out
}

impl<K: Ord + Clone, V: Clone> Node<K, V> {
    /// Inserts into this subtree; `rightmost` when no key greater than this subtree's can
    /// exist in the map (the node is the last at its level).
    fn insert(&mut self, key: K, value: V, rightmost: bool) -> Inserted<K, V> {
        match self {
            Node::Leaf(entries) => match search(entries, &key) {
                Ok(i) => Inserted::Replaced(std::mem::replace(&mut entries[i].1, value)),
                Err(i) if entries.len() < CAPACITY => {
                    insert_at(entries, i, (key, value));
                    Inserted::Added
                }
                Err(i) if rightmost && i == entries.len() => {
                    let separator = key.clone();
                    Inserted::Split(
                        separator,
                        Node::Leaf(with_capacity_from([(key, value)].into_iter())),
                    )
                }
                Err(i) => {
                    let mut right = with_capacity_from(entries.drain(CAPACITY / 2..));
                    if i <= entries.len() {
                        entries.insert(i, (key, value));
                    } else {
                        right.insert(i - entries.len(), (key, value));
                    }
                    Inserted::Split(right[0].0.clone(), Node::Leaf(right))
                }
            },
            Node::Branch {
                separators,
                children,
            } => {
                let i = child_for(separators, &key);
                let last = i + 1 == children.len();
                let (separator, node) =
                    match Arc::make_mut(&mut children[i]).insert(key, value, rightmost && last) {
                        Inserted::Split(separator, node) => (separator, node),
                        done => return done,
                    };
                if children.len() < CAPACITY {
                    insert_at(separators, i, separator);
                    insert_at(children, i + 1, Arc::new(node));
                    return Inserted::Added;
                }
                if rightmost && last {
                    let right = Node::Branch {
                        separators: Vec::with_capacity(CAPACITY),
                        children: with_capacity_from([Arc::new(node)].into_iter()),
                    };
                    return Inserted::Split(separator, right);
                }
                insert_at(separators, i, separator);
                insert_at(children, i + 1, Arc::new(node));
                let half = children.len() / 2;
                let right_children = with_capacity_from(children.drain(half..));
                let right_separators = with_capacity_from(separators.drain(half..));
                let up = separators.pop().expect("a full branch has separators");
                Inserted::Split(
                    up,
                    Node::Branch {
                        separators: right_separators,
                        children: right_children,
                    },
                )
            }
        }
    }

    /// Removes `key` from this subtree, which holds it.
    fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        match self {
            Node::Leaf(entries) => {
                let i = search(entries, key).ok()?;
                Some(entries.remove(i).1)
            }
            Node::Branch {
                separators,
                children,
            } => {
                let i = child_for(separators, key);
                let removed = Arc::make_mut(&mut children[i]).remove(key);
                let size = children[i].size();
                if size == 0 {
                    children.remove(i);
                    if !separators.is_empty() {
                        separators.remove(i.saturating_sub(1));
                    }
                } else if size < MERGE_BELOW && children.len() > 1 {
                    let left = if i + 1 < children.len() { i } else { i - 1 };
                    if children[left].size() + children[left + 1].size() <= CAPACITY {
                        let right = children.remove(left + 1);
                        let separator = separators.remove(left);
                        merge(Arc::make_mut(&mut children[left]), separator, right);
                    }
                }
                removed
            }
        }
    }
}

/// Appends `right` (the node after `left`, from `separator` on) to `left`; both are at the
/// same level.
fn merge<K: Clone, V: Clone>(left: &mut Node<K, V>, separator: K, right: Arc<Node<K, V>>) {
    let right = Arc::try_unwrap(right).unwrap_or_else(|shared| (*shared).clone());
    match (left, right) {
        (Node::Leaf(left), Node::Leaf(right)) => left.extend(right),
        (
            Node::Branch {
                separators,
                children,
            },
            Node::Branch {
                separators: right_separators,
                children: right_children,
            },
        ) => {
            separators.push(separator);
            separators.extend(right_separators);
            children.extend(right_children);
        }
        _ => unreachable!("siblings are at the same depth"),
    }
}

impl<K, V> SharedBTree<K, V> {
    pub fn new() -> Self {
        SharedBTree { root: None, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<K: Ord + Clone, V: Clone> SharedBTree<K, V> {
    /// All entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        let mut iter = Iter {
            stack: Vec::new(),
            leaf: [].iter(),
            upper: Bound::Unbounded,
        };
        if let Some(root) = &self.root {
            iter.descend_leftmost(root);
        }
        iter
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let mut node = self.root.as_deref()?;
        loop {
            match node {
                Node::Leaf(entries) => return search(entries, key).ok().map(|i| &entries[i].1),
                Node::Branch {
                    separators,
                    children,
                } => node = &children[child_for(separators, key)],
            }
        }
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.get(key).is_some()
    }

    /// The value under `key`, copying the nodes on its path that other snapshots share.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        if !self.contains_key(key) {
            return None;
        }
        let mut node = Arc::make_mut(self.root.as_mut()?);
        loop {
            match node {
                Node::Leaf(entries) => {
                    let i = search(entries, key).ok()?;
                    return Some(&mut entries[i].1);
                }
                Node::Branch {
                    separators,
                    children,
                } => node = Arc::make_mut(&mut children[child_for(separators, key)]),
            }
        }
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let Some(root) = &mut self.root else {
            self.root = Some(Arc::new(Node::Leaf(vec![(key, value)])));
            self.len = 1;
            return None;
        };
        match Arc::make_mut(root).insert(key, value, true) {
            Inserted::Replaced(old) => return Some(old),
            Inserted::Added => {}
            Inserted::Split(separator, right) => {
                let left = self.root.take().expect("the root was just split");
                let mut separators = Vec::with_capacity(CAPACITY);
                separators.push(separator);
                let children = with_capacity_from([left, Arc::new(right)].into_iter());
                self.root = Some(Arc::new(Node::Branch {
                    separators,
                    children,
                }));
            }
        }
        self.len += 1;
        None
    }

    /// Removes `key`; returns its value. Nodes are copied only when the key is present.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        if !self.contains_key(key) {
            return None;
        }
        let removed = Arc::make_mut(self.root.as_mut()?).remove(key);
        self.len -= 1;
        // An empty root goes; a root branch with one child hands the root to that child.
        while let Some(root) = self.root.take() {
            match &*root {
                Node::Leaf(entries) if entries.is_empty() => {}
                Node::Branch { children, .. } if children.len() <= 1 => {
                    self.root = children.first().cloned();
                }
                _ => {
                    self.root = Some(root);
                    break;
                }
            }
        }
        removed
    }

    /// Entries whose keys lie between the bounds, in key order.
    pub fn range<'a, Q: Ord + ?Sized>(
        &'a self,
        lower: Bound<&Q>,
        upper: Bound<&'a Q>,
    ) -> Iter<'a, K, V, Q>
    where
        K: Borrow<Q>,
    {
        let mut iter = Iter {
            stack: Vec::new(),
            leaf: [].iter(),
            upper,
        };
        let Some(mut node) = self.root.as_deref() else {
            return iter;
        };
        let probe = match lower {
            Bound::Unbounded => {
                iter.descend_leftmost(node);
                return iter;
            }
            Bound::Included(key) | Bound::Excluded(key) => key,
        };
        loop {
            match node {
                Node::Branch {
                    separators,
                    children,
                } => {
                    let i = child_for(separators, probe);
                    iter.stack.push((children, i + 1));
                    node = &children[i];
                }
                Node::Leaf(entries) => {
                    let start = entries.partition_point(|(k, _)| match lower {
                        Bound::Included(key) => k.borrow() < key,
                        _ => k.borrow() <= probe,
                    });
                    iter.leaf = entries[start..].iter();
                    return iter;
                }
            }
        }
    }
}

/// The children of a branch on an iterator's path, with the index of the next one to visit.
type Siblings<'a, K, V> = (&'a [Arc<Node<K, V>>], usize);

/// An iterator over the entries of a [`SharedBTree`] in key order, up to an upper bound.
pub struct Iter<'a, K, V, Q: ?Sized = K> {
    /// The branches above the current leaf, each with the index of its next child to visit.
    stack: Vec<Siblings<'a, K, V>>,
    leaf: std::slice::Iter<'a, (K, V)>,
    upper: Bound<&'a Q>,
}

impl<'a, K, V, Q: ?Sized> Iter<'a, K, V, Q> {
    fn descend_leftmost(&mut self, mut node: &'a Node<K, V>) {
        loop {
            match node {
                Node::Branch { children, .. } => {
                    self.stack.push((children, 1));
                    node = &children[0];
                }
                Node::Leaf(entries) => {
                    self.leaf = entries.iter();
                    return;
                }
            }
        }
    }

    /// Moves to the next leaf; false at the end of the map.
    fn next_leaf(&mut self) -> bool {
        while let Some((children, next)) = self.stack.last_mut() {
            if *next < children.len() {
                let child = &children[*next];
                *next += 1;
                self.descend_leftmost(child);
                return true;
            }
            self.stack.pop();
        }
        false
    }
}

impl<'a, K: Borrow<Q>, V, Q: Ord + ?Sized> Iterator for Iter<'a, K, V, Q> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = loop {
            if let Some(entry) = self.leaf.next() {
                break entry;
            }
            if !self.next_leaf() {
                return None;
            }
        };
        let within = match self.upper {
            Bound::Unbounded => true,
            Bound::Included(upper) => key.borrow().cmp(upper) != Ordering::Greater,
            Bound::Excluded(upper) => key.borrow() < upper,
        };
        if within {
            Some((key, value))
        } else {
            self.stack.clear();
            self.leaf = [].iter();
            None
        }
    }
}

impl<K, V> Clone for SharedBTree<K, V> {
    fn clone(&self) -> Self {
        SharedBTree {
            root: self.root.clone(),
            len: self.len,
        }
    }
}

impl<K, V> Default for SharedBTree<K, V> {
    fn default() -> Self {
        SharedBTree::new()
    }
}

impl<K: Ord + Clone, V: Clone + PartialEq> PartialEq for SharedBTree<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<K: Ord + Clone + fmt::Debug, V: Clone + fmt::Debug> fmt::Debug for SharedBTree<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Ord + Clone, V: Clone, Q: Ord + ?Sized> Index<&Q> for SharedBTree<K, V>
where
    K: Borrow<Q>,
{
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key present in the map")
    }
}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for SharedBTree<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SharedBTree::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// Checks the module invariants and returns the number of entries and leaves.
    fn check<K: Ord + Clone + fmt::Debug, V>(map: &SharedBTree<K, V>) -> (usize, usize) {
        fn walk<K: Ord + Clone + fmt::Debug, V>(
            node: &Node<K, V>,
            lo: Option<&K>,
            hi: Option<&K>,
            depth: usize,
            leaf_depth: &mut Option<usize>,
        ) -> (usize, usize) {
            assert!(
                node.size() > 0 && node.size() <= CAPACITY,
                "node size {}",
                node.size()
            );
            match node {
                Node::Leaf(entries) => {
                    assert_eq!(
                        *leaf_depth.get_or_insert(depth),
                        depth,
                        "leaves at one depth"
                    );
                    for w in entries.windows(2) {
                        assert!(w[0].0 < w[1].0);
                    }
                    for (k, _) in entries {
                        assert!(lo.is_none_or(|lo| k >= lo) && hi.is_none_or(|hi| k < hi));
                    }
                    (entries.len(), 1)
                }
                Node::Branch {
                    separators,
                    children,
                } => {
                    assert_eq!(separators.len() + 1, children.len());
                    let mut total = (0, 0);
                    for (i, child) in children.iter().enumerate() {
                        let lo = if i == 0 { lo } else { Some(&separators[i - 1]) };
                        let hi = separators.get(i).or(hi);
                        let (n, leaves) = walk(child, lo, hi, depth + 1, leaf_depth);
                        total = (total.0 + n, total.1 + leaves);
                    }
                    total
                }
            }
        }
        let counts = match &map.root {
            None => (0, 0),
            Some(root) => walk(root, None, None, 0, &mut None),
        };
        assert_eq!(counts.0, map.len());
        counts
    }

    #[test]
    fn ascending_inserts_fill_leaves() {
        let map: SharedBTree<u64, ()> = (0..100_000).map(|k| (k, ())).collect();
        let (n, leaves) = check(&map);
        assert_eq!(n, 100_000);
        assert_eq!(leaves, 100_000usize.div_ceil(CAPACITY));
    }

    #[test]
    fn random_inserts_keep_leaves_at_least_half_full() {
        let mut map = SharedBTree::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            map.insert(x % 1_000_000, ());
        }
        let (n, leaves) = check(&map);
        assert!(
            leaves * CAPACITY / 2 <= n + leaves,
            "{leaves} leaves for {n} entries"
        );
    }

    #[test]
    fn snapshots_do_not_see_later_writes() {
        let mut map: SharedBTree<u32, u32> = (0..1000).map(|k| (k, k)).collect();
        let snapshot = map.clone();
        for k in 0..1000 {
            if k % 3 == 0 {
                map.remove(&k);
            } else {
                *map.get_mut(&k).unwrap() += 1;
            }
        }
        map.insert(5000, 0);
        assert!(
            snapshot
                .iter()
                .map(|(k, v)| (*k, *v))
                .eq((0..1000).map(|k| (k, k)))
        );
        assert_eq!(map.len(), 667);
        check(&map);
        check(&snapshot);
    }

    #[test]
    fn range_bounds_on_borrowed_keys() {
        let map: SharedBTree<String, ()> = (0..200).map(|i| (format!("k{i:03}"), ())).collect();
        let keys = |lo: Bound<&str>, hi: Bound<&str>| -> Vec<String> {
            map.range(lo, hi).map(|(k, _)| k.clone()).collect()
        };
        assert_eq!(
            keys(Bound::Included("k010"), Bound::Excluded("k013")),
            ["k010", "k011", "k012"]
        );
        assert_eq!(
            keys(Bound::Excluded("k010"), Bound::Included("k012")),
            ["k011", "k012"]
        );
        assert_eq!(
            keys(Bound::Included("k0105"), Bound::Included("k011")),
            ["k011"]
        );
        assert_eq!(
            keys(Bound::Included("k198"), Bound::Unbounded),
            ["k198", "k199"]
        );
        assert!(keys(Bound::Included("z"), Bound::Unbounded).is_empty());
        assert_eq!(
            keys(Bound::Unbounded, Bound::Excluded("k002")),
            ["k000", "k001"]
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u8),
        Remove(u16),
        Snapshot,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u16..2000, any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => (0u16..2000).prop_map(Op::Remove),
            1 => Just(Op::Snapshot),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random inserts, removals and ranges agree with `std`'s `BTreeMap`, and snapshots
        /// taken along the way keep their contents.
        #[test]
        fn behaves_like_std_btreemap(
            ops in proptest::collection::vec(op(), 1..3000),
            lo in 0u16..2000,
            span in 0u16..500,
        ) {
            let mut map = SharedBTree::new();
            let mut model = BTreeMap::new();
            let mut snapshots = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(map.insert(k, v), model.insert(k, v)),
                    Op::Remove(k) => prop_assert_eq!(map.remove(&k), model.remove(&k)),
                    Op::Snapshot => snapshots.push((map.clone(), model.clone())),
                }
            }
            check(&map);
            prop_assert!(map.iter().eq(model.iter()));
            let hi = lo.saturating_add(span);
            prop_assert!(map
                .range(Bound::Included(&lo), Bound::Excluded(&hi))
                .eq(model.range(lo..hi)));
            prop_assert!(map
                .range(Bound::Excluded(&lo), Bound::Included(&hi))
                .eq(model.range((Bound::Excluded(lo), Bound::Included(hi)))));
            for (snapshot, model) in snapshots {
                check(&snapshot);
                prop_assert!(snapshot.iter().eq(model.iter()));
            }
        }
    }
}
