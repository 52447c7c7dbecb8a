//! "Did you mean": the candidate nearest to a misspelt word, by edit
//! distance, for keys, values, environments and column names.

/// Levenshtein distance, for "did you mean".
#[must_use]
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `; did you mean "X"?` for the candidate nearest to `word`, or nothing.
#[must_use]
pub fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    nearest(word, candidates).map_or_else(String::new, |n| format!("; did you mean \"{n}\"?"))
}

/// The candidate nearest to `word`, if reasonably near.
#[must_use]
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| {
            let longest = c.chars().count().max(word.chars().count());
            *d * 2 <= longest && *d < longest
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
