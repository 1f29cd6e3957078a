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

use crate::prefetch;

/// Entries per leaf and children per branch.
pub const CAPACITY: usize = 32;

/// A node with fewer entries than this after a removal merges with a neighbour when both fit
/// in one node.
const MERGE_BELOW: usize = CAPACITY / 4;

/// A persistent ordered map (see the module documentation).
pub struct SharedBTree<K, V> {
    root: Option<Arc<Node<K, V>>>,
    len: usize,
    /// Branch levels above the leaves (0 when the root is a leaf or there is none), so a
    /// walk knows it has reached a leaf's parent without reading the leaf.
    height: usize,
}

#[derive(Clone)]
enum Node<K, V> {
    Leaf(Sorted<K, V>),
    Branch {
        /// The separators, each with nothing beside it.
        separators: Sorted<K, ()>,
        children: Vec<Arc<Node<K, V>>>,
    },
}

/// What an insert into a subtree did.
enum Inserted<K, V> {
    Added,
    Replaced(V),
    /// The subtree split: this node goes to its right, starting at the separator.
    Split(K, Arc<Node<K, V>>),
}

impl<K, V> Node<K, V> {
    fn size(&self) -> usize {
        match self {
            Node::Leaf(entries) => entries.len(),
            Node::Branch { children, .. } => children.len(),
        }
    }
}

/// A cheap summary of a key that orders like the key: `a < b` implies
/// `a.key_prefix() <= b.key_prefix()`, and a key and what it borrows as give the same prefix.
///
/// Nodes keep their keys' prefixes in a small inline array, so a search scans those
/// contiguous words and compares whole keys only among equal prefixes: on a large map most
/// lookups then touch the node, one entry and nothing else, instead of the scattered entries
/// of a binary search (each a cache miss once the map outgrows the caches).
pub trait KeyPrefix {
    fn key_prefix(&self) -> u64;
}

/// The first eight bytes, big-endian, zero-padded: orders like the bytes' lexicographic order.
pub fn bytes_prefix(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(word)
}

impl KeyPrefix for u64 {
    fn key_prefix(&self) -> u64 {
        *self
    }
}

impl KeyPrefix for uuid::Uuid {
    fn key_prefix(&self) -> u64 {
        bytes_prefix(self.as_bytes())
    }
}

/// Tuples order by their first element first.
impl<A: KeyPrefix + ?Sized, B> KeyPrefix for (Arc<A>, B) {
    fn key_prefix(&self) -> u64 {
        self.0.key_prefix()
    }
}

impl KeyPrefix for str {
    fn key_prefix(&self) -> u64 {
        bytes_prefix(self.as_bytes())
    }
}

/// Items in strictly ascending key order, with their keys' prefixes alongside (see
/// [`KeyPrefix`]). Invariant: `prefixes[i] == items[i].0.key_prefix()` for every item.
#[derive(Clone)]
struct Sorted<K, X> {
    prefixes: [u64; CAPACITY],
    items: Vec<(K, X)>,
}

impl<K: KeyPrefix, X> Sorted<K, X> {
    fn new() -> Self {
        Sorted {
            prefixes: [0; CAPACITY],
            items: Vec::with_capacity(CAPACITY),
        }
    }

    fn from_items(items: impl Iterator<Item = (K, X)>) -> Self {
        let mut sorted = Sorted::new();
        for item in items {
            sorted.push(item);
        }
        sorted
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push(&mut self, item: (K, X)) {
        let at = self.items.len();
        self.insert(at, item);
    }

    /// Inserts at `at`, growing a full vector straight to [`CAPACITY`] rather than doubling
    /// (a copied node has exactly its length as capacity).
    fn insert(&mut self, at: usize, item: (K, X)) {
        let len = self.items.len();
        assert!(len < CAPACITY, "a node holds at most {CAPACITY} items");
        if len == self.items.capacity() {
            self.items.reserve_exact(CAPACITY - len);
        }
        self.prefixes.copy_within(at..len, at + 1);
        self.prefixes[at] = item.0.key_prefix();
        self.items.insert(at, item);
    }

    fn remove(&mut self, at: usize) -> (K, X) {
        let len = self.items.len();
        self.prefixes.copy_within(at + 1..len, at);
        self.items.remove(at)
    }

    fn pop(&mut self) -> Option<(K, X)> {
        self.items.pop()
    }

    /// The value of item `at` (its key, and so its prefix, stays).
    fn value_mut(&mut self, at: usize) -> &mut X {
        &mut self.items[at].1
    }

    /// Moves the items from `at` on into a new set.
    fn split_off(&mut self, at: usize) -> Self {
        let mut right = Sorted::new();
        let moved = self.items.len() - at;
        right.prefixes[..moved].copy_from_slice(&self.prefixes[at..self.items.len()]);
        right.items.extend(self.items.drain(at..));
        right
    }

    /// Appends `other`, whose keys all follow this set's.
    fn append(&mut self, other: Sorted<K, X>) {
        let (len, moved) = (self.items.len(), other.items.len());
        assert!(
            len + moved <= CAPACITY,
            "a node holds at most {CAPACITY} items"
        );
        self.prefixes[len..len + moved].copy_from_slice(&other.prefixes[..moved]);
        self.items.extend(other.items);
    }

    /// The items whose prefix equals `prefix`, as a range: they are where `prefix` ties, and
    /// every item before them has a smaller prefix (so a smaller key).
    fn tie_range(&self, prefix: u64) -> (usize, usize) {
        let prefixes = &self.prefixes[..self.items.len()];
        // Counting over all of them (rather than a binary search) lets the loads of the
        // words overlap: they sit in a few adjacent cache lines.
        let below = prefixes.iter().filter(|&&p| p < prefix).count();
        let upto = prefixes.iter().filter(|&&p| p <= prefix).count();
        (below, upto)
    }

    /// Where `key` is (`Ok`) or would go (`Err`), like `slice::binary_search`.
    fn search<Q: Ord + KeyPrefix + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        let (lo, hi) = self.tie_range(key.key_prefix());
        match self.items[lo..hi].binary_search_by(|(k, _)| k.borrow().cmp(key)) {
            Ok(i) => Ok(lo + i),
            Err(i) => Err(lo + i),
        }
    }

    /// The number of items whose key is `<= key`.
    fn count_upto<Q: Ord + KeyPrefix + ?Sized>(&self, key: &Q) -> usize
    where
        K: Borrow<Q>,
    {
        let (lo, hi) = self.tie_range(key.key_prefix());
        lo + self.items[lo..hi].partition_point(|(k, _)| k.borrow() <= key)
    }
}

impl<K, X> std::ops::Deref for Sorted<K, X> {
    type Target = [(K, X)];

    fn deref(&self) -> &[(K, X)] {
        &self.items
    }
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

impl<K: Ord + Clone + KeyPrefix, V: Clone> Node<K, V> {
    /// Inserts into this subtree; `rightmost` when no key greater than this subtree's can
    /// exist in the map (the node is the last at its level).
    fn insert(&mut self, key: K, value: V, rightmost: bool) -> Inserted<K, V> {
        match self {
            Node::Leaf(entries) => match entries.search(&key) {
                Ok(i) => Inserted::Replaced(std::mem::replace(entries.value_mut(i), value)),
                Err(i) if entries.len() < CAPACITY => {
                    entries.insert(i, (key, value));
                    Inserted::Added
                }
                Err(i) if rightmost && i == entries.len() => {
                    let separator = key.clone();
                    Inserted::Split(
                        separator,
                        Arc::new(Node::Leaf(Sorted::from_items([(key, value)].into_iter()))),
                    )
                }
                Err(i) => {
                    let mut right = entries.split_off(CAPACITY / 2);
                    if i <= entries.len() {
                        entries.insert(i, (key, value));
                    } else {
                        right.insert(i - entries.len(), (key, value));
                    }
                    Inserted::Split(right[0].0.clone(), Arc::new(Node::Leaf(right)))
                }
            },
            Node::Branch {
                separators,
                children,
            } => {
                let i = separators.count_upto(&key);
                let last = i + 1 == children.len();
                let (separator, node) =
                    match Arc::make_mut(&mut children[i]).insert(key, value, rightmost && last) {
                        Inserted::Split(separator, node) => (separator, node),
                        done => return done,
                    };
                if children.len() < CAPACITY {
                    separators.insert(i, (separator, ()));
                    insert_at(children, i + 1, node);
                    return Inserted::Added;
                }
                if rightmost && last {
                    let right = Node::Branch {
                        separators: Sorted::new(),
                        children: with_capacity_from([node].into_iter()),
                    };
                    return Inserted::Split(separator, Arc::new(right));
                }
                // A full branch has CAPACITY - 1 separators: the new one makes CAPACITY, the
                // most a set holds, and the split below takes one of them up.
                separators.insert(i, (separator, ()));
                insert_at(children, i + 1, node);
                let half = children.len() / 2;
                let right_children = with_capacity_from(children.drain(half..));
                let right_separators = separators.split_off(half);
                let (up, ()) = separators.pop().expect("a full branch has separators");
                Inserted::Split(
                    up,
                    Arc::new(Node::Branch {
                        separators: right_separators,
                        children: right_children,
                    }),
                )
            }
        }
    }

    /// Removes `key` from this subtree, which holds it.
    fn remove<Q: Ord + KeyPrefix + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        match self {
            Node::Leaf(entries) => {
                let i = entries.search(key).ok()?;
                Some(entries.remove(i).1)
            }
            Node::Branch {
                separators,
                children,
            } => {
                let i = separators.count_upto(key);
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
                        let (separator, ()) = separators.remove(left);
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
fn merge<K: Clone + KeyPrefix, V: Clone>(
    left: &mut Node<K, V>,
    separator: K,
    right: Arc<Node<K, V>>,
) {
    let right = Arc::try_unwrap(right).unwrap_or_else(|shared| (*shared).clone());
    match (left, right) {
        (Node::Leaf(left), Node::Leaf(right)) => left.append(right),
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
            separators.push((separator, ()));
            separators.append(right_separators);
            children.extend(right_children);
        }
        _ => unreachable!("siblings are at the same depth"),
    }
}

impl<K, V> SharedBTree<K, V> {
    pub fn new() -> Self {
        SharedBTree {
            root: None,
            len: 0,
            height: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<K: Ord + Clone + KeyPrefix, V: Clone> SharedBTree<K, V> {
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

    pub fn get<Q: Ord + KeyPrefix + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let mut node = self.root.as_deref()?;
        loop {
            match node {
                Node::Leaf(entries) => return entries.search(key).ok().map(|i| &entries[i].1),
                Node::Branch {
                    separators,
                    children,
                } => node = &children[separators.count_upto(key)],
            }
        }
    }

    pub fn contains_key<Q: Ord + KeyPrefix + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.get(key).is_some()
    }

    /// The value under `key`, copying the nodes on its path that other snapshots share.
    pub fn get_mut<Q: Ord + KeyPrefix + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
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
                    let i = entries.search(key).ok()?;
                    return Some(entries.value_mut(i));
                }
                Node::Branch {
                    separators,
                    children,
                } => node = Arc::make_mut(&mut children[separators.count_upto(key)]),
            }
        }
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let Some(root) = &mut self.root else {
            self.root = Some(Arc::new(Node::Leaf(Sorted::from_items(
                [(key, value)].into_iter(),
            ))));
            self.len = 1;
            self.height = 0;
            return None;
        };
        match Arc::make_mut(root).insert(key, value, true) {
            Inserted::Replaced(old) => return Some(old),
            Inserted::Added => {}
            Inserted::Split(separator, right) => {
                let left = self.root.take().expect("the root was just split");
                let separators = Sorted::from_items([(separator, ())].into_iter());
                let children = with_capacity_from([left, right].into_iter());
                self.root = Some(Arc::new(Node::Branch {
                    separators,
                    children,
                }));
                self.height += 1;
            }
        }
        self.len += 1;
        None
    }

    /// Removes `key`; returns its value. Nodes are copied only when the key is present.
    pub fn remove<Q: Ord + KeyPrefix + ?Sized>(&mut self, key: &Q) -> Option<V>
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
                Node::Leaf(entries) if entries.is_empty() => self.height = 0,
                Node::Branch { children, .. } if children.len() <= 1 => {
                    self.root = children.first().cloned();
                    self.height = self.height.saturating_sub(1);
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
    pub fn range<'a, Q: Ord + KeyPrefix + ?Sized>(
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
                    let i = separators.count_upto(probe);
                    iter.stack.push((children, i + 1));
                    node = &children[i];
                }
                Node::Leaf(entries) => {
                    let start = match (lower, entries.search(probe)) {
                        (Bound::Excluded(_), Ok(i)) => i + 1,
                        (_, Ok(i) | Err(i)) => i,
                    };
                    iter.leaf = entries[start..].iter();
                    return iter;
                }
            }
        }
    }
}

impl<K, V> SharedBTree<K, V> {
    /// A walk towards the leaf of some key that reads nothing the CPU has not been asked to
    /// fetch beforehand: see [`Descent`].
    pub fn descent(&self) -> Option<Descent<'_, K, V>> {
        let root = self.root.as_ref()?;
        prefetch::shared(root);
        Some(Descent {
            node: root,
            slot: None,
            levels: self.height,
        })
    }
}

/// A walk down a [`SharedBTree`] for prefetching, one cache miss at a time: each
/// [`Descent::step`] reads only what the previous step asked the CPU to fetch, and asks for
/// the next thing. Stepping the walks of many keys in turns (all first steps, then all
/// second steps, ...) lets their cache misses overlap, where one lookup after another takes
/// them in sequence. Nothing it does changes what the map holds or returns.
pub struct Descent<'a, K, V> {
    /// The node reached, already asked for.
    node: &'a Arc<Node<K, V>>,
    /// The slot of `node`'s child on the way down, once chosen (its line asked for).
    slot: Option<&'a Arc<Node<K, V>>>,
    /// Branch levels between `node` and the leaves.
    levels: usize,
}

impl<'a, K: Ord + KeyPrefix, V> Descent<'a, K, V> {
    /// Takes the next step towards `key`'s leaf; false once at the leaf.
    pub fn step<Q: Ord + KeyPrefix + ?Sized>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        if let Some(child) = self.slot.take() {
            prefetch::shared(child);
            self.node = child;
            self.levels -= 1;
            return true;
        }
        if self.levels == 0 {
            return false;
        }
        let Node::Branch {
            separators,
            children,
        } = &**self.node
        else {
            unreachable!("the map's height counts its branch levels");
        };
        let slot = &children[separators.count_upto(key)];
        prefetch::object(slot);
        self.slot = Some(slot);
        true
    }

    /// At the leaf: asks for the line of the entry where `key` is or would go, judged by the
    /// key prefixes alone (the entries are not read), and returns that entry's value when
    /// its prefix ties with the key's: the value under `key` if present, or (prefixes being
    /// a summary) a neighbour's.
    pub fn candidate<Q: Ord + KeyPrefix + ?Sized>(&self, key: &Q) -> Option<&'a V>
    where
        K: Borrow<Q>,
    {
        if self.levels > 0 || self.slot.is_some() {
            return None;
        }
        let Node::Leaf(entries) = &**self.node else {
            unreachable!("no branch levels are left");
        };
        let (lo, hi) = entries.tie_range(key.key_prefix());
        let entry = entries.items.get(lo)?;
        prefetch::object(entry);
        (lo < hi).then_some(&entry.1)
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
            height: self.height,
        }
    }
}

impl<K, V> Default for SharedBTree<K, V> {
    fn default() -> Self {
        SharedBTree::new()
    }
}

impl<K: Ord + Clone + KeyPrefix, V: Clone + PartialEq> PartialEq for SharedBTree<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<K: Ord + Clone + KeyPrefix + fmt::Debug, V: Clone + fmt::Debug> fmt::Debug
    for SharedBTree<K, V>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Ord + Clone + KeyPrefix, V: Clone, Q: Ord + KeyPrefix + ?Sized> Index<&Q>
    for SharedBTree<K, V>
where
    K: Borrow<Q>,
{
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key present in the map")
    }
}

impl<K: Ord + Clone + KeyPrefix, V: Clone> FromIterator<(K, V)> for SharedBTree<K, V> {
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

    impl KeyPrefix for u32 {
        fn key_prefix(&self) -> u64 {
            u64::from(*self)
        }
    }

    /// Coarse on purpose: eight keys share each prefix, so searches go through the
    /// comparisons among equal prefixes.
    impl KeyPrefix for u16 {
        fn key_prefix(&self) -> u64 {
            u64::from(*self / 8)
        }
    }

    impl KeyPrefix for String {
        fn key_prefix(&self) -> u64 {
            self.as_str().key_prefix()
        }
    }

    /// Checks the module invariants and returns the number of entries and leaves.
    fn check<K: Ord + Clone + KeyPrefix + fmt::Debug, V>(
        map: &SharedBTree<K, V>,
    ) -> (usize, usize) {
        fn prefixes_match<K: KeyPrefix, X>(sorted: &Sorted<K, X>) {
            for (i, (k, _)) in sorted.iter().enumerate() {
                assert_eq!(sorted.prefixes[i], k.key_prefix(), "prefix of item {i}");
            }
        }
        fn walk<K: Ord + Clone + KeyPrefix + fmt::Debug, V>(
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
                    prefixes_match(entries);
                    for w in entries.windows(2) {
                        assert!(w[0].0 < w[1].0);
                        assert!(w[0].0.key_prefix() <= w[1].0.key_prefix());
                    }
                    for (k, _) in entries.iter() {
                        assert!(lo.is_none_or(|lo| k >= lo) && hi.is_none_or(|hi| k < hi));
                    }
                    (entries.len(), 1)
                }
                Node::Branch {
                    separators,
                    children,
                } => {
                    assert_eq!(separators.len() + 1, children.len());
                    prefixes_match(separators);
                    let mut total = (0, 0);
                    for (i, child) in children.iter().enumerate() {
                        let lo = if i == 0 {
                            lo
                        } else {
                            Some(&separators[i - 1].0)
                        };
                        let hi = separators.get(i).map(|(s, ())| s).or(hi);
                        let (n, leaves) = walk(child, lo, hi, depth + 1, leaf_depth);
                        total = (total.0 + n, total.1 + leaves);
                    }
                    total
                }
            }
        }
        let mut leaf_depth = None;
        let counts = match &map.root {
            None => (0, 0),
            Some(root) => walk(root, None, None, 0, &mut leaf_depth),
        };
        assert_eq!(leaf_depth.unwrap_or(0), map.height, "height");
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

    /// Walks `key`'s descent to its end, as a batch prefetch does.
    fn candidate<'a, K: Ord + KeyPrefix, V>(map: &'a SharedBTree<K, V>, key: &K) -> Option<&'a V> {
        let mut walk = map.descent()?;
        let mut steps = 0;
        while walk.step(key) {
            steps += 1;
        }
        assert_eq!(steps, 2 * map.height, "two steps per branch level");
        walk.candidate(key)
    }

    #[test]
    fn descents_reach_the_entry_of_their_key() {
        let mut map: SharedBTree<u64, u64> = (0..20_000).map(|k| (k * 2, k)).collect();
        for k in (0..5_000).map(|k| k * 4) {
            map.remove(&k);
        }
        check(&map);
        assert!(map.height >= 2);
        for key in 0..40_000u64 {
            // Prefixes of u64 keys are exact, so the candidate is the entry itself.
            assert_eq!(candidate(&map, &key), map.get(&key), "key {key}");
        }
        // With coarse prefixes the candidate is an entry of the same prefix, or none.
        let coarse: SharedBTree<u16, u16> = (0..3000).map(|k| (k * 3, k)).collect();
        for key in 0..9000u16 {
            if let Some(&v) = candidate(&coarse, &key) {
                assert_eq!((v * 3).key_prefix(), key.key_prefix(), "key {key}");
            }
            if coarse.contains_key(&key) {
                assert!(candidate(&coarse, &key).is_some());
            }
        }
        assert!(SharedBTree::<u64, ()>::new().descent().is_none());
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
